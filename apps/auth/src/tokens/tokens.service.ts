import { Inject, Injectable } from '@nestjs/common';
import {
  createLocalJWKSet,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTVerifyGetKey,
} from 'jose';
import { Clock, type Principal } from '@edge/auth-contract';
import { RandomSource } from '../common/random';
import { AUTH_CONFIG, type AuthConfig } from '../config/config';
import { accessTokenClaims, principalFromClaims, tokenTimes } from './claims';
import { SIGNING_ALG, SigningKeysService } from './signing-keys.service';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export type TokenVerification =
  { ok: true; principal: Principal; issuedAtSeconds: number } | { ok: false; reason: string };

/** Issues and verifies this service's access tokens (JWT, ES256, `kid` header). */
@Injectable()
export class TokensService {
  private keySet: { version: number; get: JWTVerifyGetKey } | undefined;

  constructor(
    @Inject(AUTH_CONFIG)
    private readonly config: Pick<AuthConfig, 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_TTL_SECONDS'>,
    private readonly signingKeys: SigningKeysService,
    private readonly clock: Clock,
    private readonly random: RandomSource,
  ) {}

  /**
   * An access token for `p`. `notBefore` is the key's rotation cut-off: a token minted in the
   * second of a rotation gets that next whole second as `iat`, so it is not mistaken for one
   * issued before the rotation.
   */
  async issue(p: Principal, notBefore: Date | null = null): Promise<TokenResponse> {
    const now = this.clock.now();
    const { iat, exp } = tokenTimes(now, this.config.JWT_TTL_SECONDS, p.validUntil, notBefore);
    const { kid, key } = await this.signingKeys.currentSigningKey();
    const token = await new SignJWT(accessTokenClaims(p))
      .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'JWT' })
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setSubject(p.userId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(this.random.bytes(16).toString('base64url'))
      .sign(key);
    return { access_token: token, token_type: 'Bearer', expires_in: Math.max(0, exp - iat) };
  }

  async verify(token: string): Promise<TokenVerification> {
    try {
      const { payload } = await jwtVerify(token, this.getKey(), {
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        algorithms: [SIGNING_ALG],
        currentDate: this.clock.now(),
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      const principal = principalFromClaims(payload);
      return principal && typeof payload.iat === 'number'
        ? { ok: true, principal, issuedAtSeconds: payload.iat }
        : { ok: false, reason: 'malformed claims' };
    } catch (err) {
      return { ok: false, reason: describeJoseError(err) };
    }
  }

  private getKey(): JWTVerifyGetKey {
    const version = this.signingKeys.version;
    if (!this.keySet || this.keySet.version !== version) {
      this.keySet = { version, get: createLocalJWKSet(this.signingKeys.jwks()) };
    }
    return this.keySet.get;
  }
}

/** A short, secret-free reason for a failed verification. */
export function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `invalid claim ${err.claim}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'unknown signing key';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof joseErrors.JOSEError) return 'malformed token';
  return 'malformed token';
}
