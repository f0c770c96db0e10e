/**
 * One setting bounds a token's life on both sides: the issuer (apps/auth) never signs a token
 * living longer, the gateway (apps/authn-processor) refuses one that claims to (`exp - iat`) or
 * that was issued longer ago (`now - iat`), and remembers a revoked key exactly that long (a
 * token of a key revoked earlier has expired). Both apps read it from the same variable.
 */
export const JWT_MAX_TTL_ENV = 'JWT_MAX_TTL_SECONDS';
export const DEFAULT_JWT_MAX_TTL_SECONDS = 3_600;
export const MAX_JWT_MAX_TTL_SECONDS = 86_400;

export interface TokenTimes {
  readonly iat?: unknown;
  readonly exp?: unknown;
}

/**
 * Why a token's `iat`/`exp` break the lifetime bound, or undefined when they keep it:
 * both must be numbers, `iat` not in the future, `exp - iat <= maxTtl`, `now - iat <= maxTtl`
 * (each with `toleranceSeconds` of clock skew). Expiry itself (`exp <= now`) is the verifier's.
 */
export function tokenLifetimeProblem(
  t: TokenTimes,
  maxTtlSeconds: number,
  nowSeconds: number,
  toleranceSeconds: number,
): string | undefined {
  if (typeof t.iat !== 'number' || !Number.isFinite(t.iat)) return 'Token has no iat';
  if (typeof t.exp !== 'number' || !Number.isFinite(t.exp)) return 'Token has no exp';
  if (t.iat > nowSeconds + toleranceSeconds) return 'Token is issued in the future';
  if (t.exp - t.iat > maxTtlSeconds) return 'Token lifetime exceeds the maximum';
  if (nowSeconds - t.iat > maxTtlSeconds + toleranceSeconds) return 'Token is too old';
  return undefined;
}
