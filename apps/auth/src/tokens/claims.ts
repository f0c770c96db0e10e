import { type JWTPayload } from 'jose';
import { type Principal, type Scope, scopeFromString, scopeToString } from '@edge/auth-contract';

/** The claims of an access token besides the registered ones (iss, aud, sub, iat, exp, jti). */
export interface AccessTokenClaims extends JWTPayload {
  tenant: string;
  key_id: string;
  /** `resource:action` strings, e.g. `keys:read`. */
  scopes: string[];
}

export interface TokenTimes {
  iat: number;
  exp: number;
}

/**
 * Issue and expiry (seconds since the epoch): `ttl` from now, but never past the instant the
 * credential that asked for the token stops working (key expiry or rotation grace). `iat` is
 * at least the key's rotation cut-off `notBefore` (a whole second, at most 1 s ahead).
 */
export function tokenTimes(
  now: Date,
  ttlSeconds: number,
  validUntil: Date | null,
  notBefore: Date | null = null,
): TokenTimes {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const iat = notBefore ? Math.max(nowSeconds, Math.ceil(notBefore.getTime() / 1000)) : nowSeconds;
  let exp = nowSeconds + ttlSeconds;
  if (validUntil) exp = Math.min(exp, Math.floor(validUntil.getTime() / 1000));
  return { iat, exp };
}

export function accessTokenClaims(p: Principal): AccessTokenClaims {
  return { tenant: p.tenant, key_id: p.keyId, scopes: p.scopes.map(scopeToString) };
}

/** Rebuilds a principal from verified claims; undefined when a claim is missing or malformed. */
export function principalFromClaims(payload: JWTPayload): Principal | undefined {
  const { sub, tenant, key_id: keyId, scopes, exp } = payload as Partial<AccessTokenClaims>;
  if (typeof sub !== 'string' || typeof tenant !== 'string' || typeof keyId !== 'string') {
    return undefined;
  }
  if (!Array.isArray(scopes) || typeof exp !== 'number') return undefined;
  const parsed: Scope[] = [];
  for (const s of scopes) {
    const scope = typeof s === 'string' ? scopeFromString(s) : undefined;
    if (!scope) return undefined;
    parsed.push(scope);
  }
  return {
    tenant,
    userId: sub,
    keyId,
    scopes: parsed,
    via: 'jwt',
    validUntil: new Date(exp * 1000),
  };
}
