import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { type Request } from 'express';
import { KeysService } from '../keys/keys.service';
import { TokensService } from '../tokens/tokens.service';
import { splitAuthorization } from './basic-header';
import { unauthenticated } from './errors';
import { type Principal } from '@edge/auth-contract';
import { RequestStrategy } from './request-strategy';

export const JWT_STRATEGY = 'jwt';

/**
 * `Authorization: Bearer <access token>` issued by this service (verified with jose against
 * our own signing keys). On management routes the key behind the token must still be active
 * and not rotated since the token's `iat`, so revoking or rotating a key also stops its
 * outstanding tokens here at once.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(RequestStrategy, JWT_STRATEGY) {
  constructor(
    private readonly tokens: TokensService,
    private readonly keys: KeysService,
  ) {
    super();
  }

  async validate(req: Request): Promise<Principal | false> {
    const auth = splitAuthorization(req.headers.authorization);
    if (!auth || auth.scheme !== 'bearer') return false;
    if (auth.value === '') throw unauthenticated('NoCredentials No bearer token passed');
    const result = await this.tokens.verify(auth.value);
    if (!result.ok) throw unauthenticated(`InvalidToken ${result.reason}`);
    if (!(await this.keys.isUsable(result.principal.keyId, result.issuedAtSeconds))) {
      throw unauthenticated(
        'RevokedKey The key behind this token is revoked or expired, or was rotated after the token was issued',
      );
    }
    return result.principal;
  }
}
