import { parseAuthorization } from '../credentials/credentials';
import { AuthBackendUnavailable, AuthnFailure, type CredentialScheme } from './authn-error';
import {
  type AuthErrorCode,
  authErrorBody,
  formatErrorBody,
  formatScopes,
  missingScopes,
  type Principal,
  scopeToString,
} from '@edge/auth-contract';
import { type RoutePolicy } from './route-policy';

export interface ApiKeyVerifier {
  verify(keyId: string, secret: string): Promise<Principal>;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Per key_id, whether a token issued at `issuedAtMs` predates the key's last rotation. */
export interface RotationList {
  issuedBeforeRotation(keyId: string, issuedAtMs: number | undefined): boolean;
}

/** Key ids revoked while tokens issued for them may still be unexpired. */
export interface RevocationList {
  isRevoked(keyId: string): boolean;
}

export interface AuthenticatorOptions {
  readonly maxAuthorizationBytes: number;
  readonly realm: string;
}

export type AuthnDecision =
  | {
      readonly kind: 'allow';
      /** Undefined on a public route called without credentials. */
      readonly principal: Principal | undefined;
    }
  | {
      readonly kind: 'deny';
      readonly status: 401 | 403 | 500 | 503;
      /** Error code word (first word of `details`). */
      readonly code: AuthErrorCode;
      /** JSON body, the contract's `{"message":...,"status":...,"details":"<Code> <sentence>"}`. */
      readonly body: string;
      readonly headers: Readonly<Record<string, string>>;
      /** For logs: the principal when one was verified (403). */
      readonly principal?: Principal;
    };

/** The contract's JSON error body, in the quickstart transcript's bytes. */
export function errorBody(status: number, code: AuthErrorCode, sentence: string): string {
  return formatErrorBody(authErrorBody(status, code, sentence));
}

/** Identity values must be safe header values (no control characters, bounded). */
const HEADER_SAFE = /^[\x20-\x7e]{1,256}$/;

/**
 * The processor's decisions, free of ext_proc: credentials -> principal -> route scopes.
 * Failures never include the secret or token.
 */
export class Authenticator {
  constructor(
    private readonly keys: ApiKeyVerifier,
    private readonly tokens: TokenVerifier,
    private readonly opts: AuthenticatorOptions,
    private readonly revoked?: RevocationList,
    private readonly rotated?: RotationList,
  ) {}

  async decide(authorization: readonly string[], policy: RoutePolicy): Promise<AuthnDecision> {
    if (policy.public && authorization.length === 0) return { kind: 'allow', principal: undefined };
    let principal: Principal;
    try {
      const creds = parseAuthorization(authorization, {
        maxBytes: this.opts.maxAuthorizationBytes,
      });
      principal =
        creds.scheme === 'basic'
          ? await this.keys.verify(creds.keyId, creds.secret)
          : await this.tokens.verify(creds.token);
      if (principal.via === 'jwt' && this.revoked?.isRevoked(principal.keyId) === true) {
        throw new AuthnFailure(
          'RevokedKey',
          'The key this token was issued for has been revoked',
          'bearer',
        );
      }
      if (
        principal.via === 'jwt' &&
        this.rotated?.issuedBeforeRotation(principal.keyId, principal.issuedAt?.getTime()) === true
      ) {
        throw new AuthnFailure(
          'InvalidToken',
          'The token was issued before its key was rotated',
          'bearer',
        );
      }
      checkHeaderSafe(principal);
    } catch (e) {
      return this.failure(e);
    }
    const missing = missingScopes(policy.requiredScopes, principal.scopes);
    if (missing.length > 0) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      };
      if (principal.via === 'jwt') {
        headers['www-authenticate'] =
          `Bearer realm="${this.opts.realm}", error="insufficient_scope", scope="${missing.map(scopeToString).join(' ')}"`;
      }
      return {
        kind: 'deny',
        status: 403,
        code: 'MissingScope',
        body: errorBody(403, 'MissingScope', formatScopes(missing)),
        headers,
        principal,
      };
    }
    return { kind: 'allow', principal };
  }

  /** Maps any error to a deny decision; unknown errors fail closed as 503. */
  failure(e: unknown): AuthnDecision & { kind: 'deny' } {
    if (e instanceof AuthnFailure) {
      return {
        kind: 'deny',
        status: 401,
        code: e.code,
        body: errorBody(401, e.code, e.sentence),
        headers: {
          'content-type': 'application/json',
          'cache-control': 'no-store',
          'www-authenticate': this.challenge(e),
        },
      };
    }
    const sentence =
      e instanceof AuthBackendUnavailable ? e.sentence : 'Authentication could not be completed';
    return {
      kind: 'deny',
      status: 503,
      code: 'AuthBackendUnavailable',
      body: errorBody(503, 'AuthBackendUnavailable', sentence),
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'retry-after': '1',
      },
    };
  }

  private challenge(e: AuthnFailure): string {
    const realm = this.opts.realm;
    const scheme: CredentialScheme = e.scheme;
    switch (scheme) {
      case 'basic':
        return `Basic realm="${realm}", charset="UTF-8"`;
      case 'bearer':
        return e.code === 'NoCredentials'
          ? `Bearer realm="${realm}"`
          : `Bearer realm="${realm}", error="invalid_token", error_description="${e.sentence.replace(/["\\]/g, '')}"`;
      default:
        return `Basic realm="${realm}", Bearer realm="${realm}"`;
    }
  }
}

function checkHeaderSafe(p: Principal): void {
  const ok = HEADER_SAFE.test(p.tenant) && HEADER_SAFE.test(p.userId) && HEADER_SAFE.test(p.keyId);
  if (ok) return;
  if (p.via === 'jwt') {
    throw new AuthnFailure('InvalidToken', 'Token identity claims are not usable', 'bearer');
  }
  throw new AuthBackendUnavailable('Auth service returned an unusable identity');
}
