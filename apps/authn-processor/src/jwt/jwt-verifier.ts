import { errors, jwtVerify, type JWTPayload } from 'jose';
import { AuthBackendUnavailable, AuthnFailure } from '../authn/authn-error';
import { type Principal } from '../authn/principal';
import { type Clock } from '../common/clock';
import { type JwksCache } from './jwks.cache';

export interface JwtVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Asymmetric algorithms only (the config refuses `none` and HS*). */
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
}

const SCOPE = /^(\*|[a-z0-9][a-z0-9._-]{0,62}):(\*|[a-z0-9][a-z0-9._-]{0,62})$/;

function invalid(sentence: string): AuthnFailure {
  return new AuthnFailure('InvalidToken', sentence, 'bearer');
}

/**
 * Verifies a JWT Bearer token locally against the auth service's JWKS: signature with an
 * allowed asymmetric algorithm, issuer, audience, expiry (with a small clock tolerance), and
 * maps its claims to a Principal. Throws AuthnFailure (401) or AuthBackendUnavailable (503,
 * when the JWKS cannot be had).
 */
export class JwtVerifier {
  constructor(
    private readonly jwks: JwksCache,
    private readonly clock: Clock,
    private readonly opts: JwtVerifierOptions,
  ) {}

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks.getKey, {
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        algorithms: [...this.opts.algorithms],
        clockTolerance: this.opts.clockToleranceSeconds,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (e) {
      throw mapJoseError(e);
    }
    return principalFromClaims(payload);
  }
}

export function mapJoseError(e: unknown): Error {
  if (e instanceof AuthBackendUnavailable || e instanceof AuthnFailure) return e;
  if (e instanceof errors.JWTExpired) {
    return new AuthnFailure('ExpiredToken', 'The token has expired', 'bearer');
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    return invalid(`Token claim check failed (${e.claim})`);
  }
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) {
    return invalid('Token algorithm is not allowed');
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return invalid('Token signature is invalid');
  }
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) {
    return invalid('Token signing key is not known');
  }
  return invalid('Token is malformed');
}

/**
 * Claims the auth service puts in its tokens: `sub` (user id), `tenant`, `scopes`
 * (`["resource:action", ...]` or `[{resource, action}, ...]`, or an OAuth `scope` string),
 * and optionally `key_id` (the API key the token was exchanged for).
 */
export function principalFromClaims(p: JWTPayload): Principal {
  const tenant = p.tenant ?? p.tenant_id;
  if (typeof tenant !== 'string' || tenant.length === 0) throw invalid('Token has no tenant');
  if (typeof p.sub !== 'string' || p.sub.length === 0) throw invalid('Token has no subject');
  const keyId = p.key_id;
  return {
    via: 'bearer',
    tenant,
    userId: p.sub,
    keyId: typeof keyId === 'string' && keyId.length > 0 ? keyId : undefined,
    scopes: scopesFromClaims(p),
    expiresAt: typeof p.exp === 'number' ? p.exp * 1000 : undefined,
    issuedAt: typeof p.iat === 'number' ? p.iat * 1000 : undefined,
  };
}

function scopesFromClaims(p: JWTPayload): string[] {
  const raw: unknown = p.scopes ?? p.scope;
  const list: unknown[] =
    typeof raw === 'string'
      ? raw.split(' ').filter((s) => s.length > 0)
      : Array.isArray(raw)
        ? raw
        : [];
  const out: string[] = [];
  for (const s of list) {
    const str =
      typeof s === 'string'
        ? s
        : s !== null && typeof s === 'object'
          ? `${String((s as { resource?: unknown }).resource)}:${String((s as { action?: unknown }).action)}`
          : '';
    // Anything that is not a well-formed scope is dropped: it can never reach the x-scopes header.
    if (SCOPE.test(str)) out.push(str);
  }
  return out;
}
