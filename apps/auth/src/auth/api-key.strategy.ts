import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { type Request } from 'express';
import { KeysService } from '../keys/keys.service';
import { parseBasic, splitAuthorization } from './basic-header';
import { unauthenticated } from './errors';
import { type Principal } from '@edge/auth-contract';
import { RequestStrategy } from './request-strategy';

export const API_KEY_STRATEGY = 'api-key';

// The same `details` codes the gateway (authn processor) answers with, so a client sees one
// vocabulary whether it calls the auth API directly or goes through Envoy.
const FAILURE_DETAILS = {
  unknown_key: 'UnknownKey The key does not exist',
  wrong_secret: 'InvalidSecret The secret does not match the key',
  revoked: 'RevokedKey The key has been revoked',
  expired: 'ExpiredKey The key has expired',
} as const;

/** `Authorization: Basic base64(key_id:secret)`. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(RequestStrategy, API_KEY_STRATEGY) {
  constructor(private readonly keys: KeysService) {
    super();
  }

  async validate(req: Request): Promise<Principal | false> {
    const auth = splitAuthorization(req.headers.authorization);
    if (!auth || auth.scheme !== 'basic') return false;
    const creds = parseBasic(auth.value);
    if (!creds.ok) {
      const details = {
        NoCredentials: 'NoCredentials One of identity or secret not passed',
        MalformedBase64: 'MalformedCredentials The Basic credential is not valid base64',
        NoColon: 'MalformedCredentials The Basic credential must be key_id:secret',
      }[creds.reason];
      throw unauthenticated(details);
    }
    const v = await this.keys.verify(creds.id, creds.secret);
    if (v.result !== 'ok' || !v.key) {
      throw unauthenticated(FAILURE_DETAILS[v.result === 'ok' ? 'unknown_key' : v.result]);
    }
    return {
      tenant: v.key.tenantId,
      userId: v.key.userId,
      keyId: v.key.keyId,
      scopes: v.key.scopes,
      via: 'api_key',
      validUntil: v.validUntil,
    };
  }
}
