import { errors, jwtVerify, type JWTPayload } from 'jose';
import { AuthBackendUnavailable, AuthnFailure } from '../authn/authn-error';
import {
  type Clock,
  type Principal,
  type Scope,
  scopeFromString,
  tokenLifetimeProblem,
} from '@edge/auth-contract';
import { type JwksCache } from './jwks.cache';

export interface JwtVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Asymmetric algorithms only (the config refuses `none` and HS*). */
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  /** JWT_MAX_TTL_SECONDS: the longest `exp - iat` and age accepted. */
  readonly maxTtlSeconds: number;
}

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
        currentDate: new Date(this.clock.nowMs()),
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (e) {
      throw mapJoseError(e);
    }
    const problem = tokenLifetimeProblem(
      payload,
      this.opts.maxTtlSeconds,
      Math.floor(this.clock.nowMs() / 1000),
      this.opts.clockToleranceSeconds,
    );
    if (problem !== undefined) throw invalid(problem);
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
 * `key_id` (the API key the token was exchanged for, required) and `iat` (checked, with `exp`,
 * against JWT_MAX_TTL_SECONDS before this runs; carried as `issuedAt` for the rotation cut-off).
 */
export function principalFromClaims(p: JWTPayload): Principal {
  const tenant = p.tenant ?? p.tenant_id;
  if (typeof tenant !== 'string' || tenant.length === 0) throw invalid('Token has no tenant');
  if (typeof p.sub !== 'string' || p.sub.length === 0) throw invalid('Token has no subject');
  // Required: revocation is by key id, so a token that names no key could never be revoked.
  const keyId = p.key_id;
  if (typeof keyId !== 'string' || keyId.length === 0) throw invalid('Token has no key_id');
  return {
    via: 'jwt',
    tenant,
    userId: p.sub,
    keyId,
    scopes: scopesFromClaims(p),
    validUntil: typeof p.exp === 'number' ? new Date(p.exp * 1000) : null,
    ...(typeof p.iat === 'number' ? { issuedAt: new Date(p.iat * 1000) } : {}),
  };
}

function scopesFromClaims(p: JWTPayload): Scope[] {
  const raw: unknown = p.scopes ?? p.scope;
  const list: unknown[] =
    typeof raw === 'string'
      ? raw.split(' ').filter((s) => s.length > 0)
      : Array.isArray(raw)
        ? raw
        : [];
  const out: Scope[] = [];
  for (const s of list) {
    const str =
      typeof s === 'string'
        ? s
        : s !== null && typeof s === 'object'
          ? `${String((s as { resource?: unknown }).resource)}:${String((s as { action?: unknown }).action)}`
          : '';
    // Anything that is not a well-formed scope (the contract's grammar) is dropped: it can never
    // reach the x-scopes header.
    const scope = scopeFromString(str);
    if (scope !== undefined) out.push(scope);
  }
  return out;
}
