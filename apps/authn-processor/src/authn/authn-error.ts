import { type UnauthenticatedCode } from '@edge/auth-contract';

/**
 * Every way a request can be refused. `details` in the JSON body is `<code> <sentence>`; the
 * sentence never contains the secret or token the client sent.
 */
export type AuthnFailureCode = UnauthenticatedCode;

/** Which credential kind a failure concerns; drives the WWW-Authenticate challenge. */
export type CredentialScheme = 'basic' | 'bearer' | 'none';

/** 401: the request carries no valid credentials. */
export class AuthnFailure extends Error {
  constructor(
    readonly code: AuthnFailureCode,
    readonly sentence: string,
    readonly scheme: CredentialScheme,
  ) {
    super(`${code} ${sentence}`);
    this.name = 'AuthnFailure';
  }
}

/** 503: the auth backend could not give an answer (down, timeout, internal error). Fail closed. */
export class AuthBackendUnavailable extends Error {
  readonly code = 'AuthBackendUnavailable' as const;
  constructor(
    readonly sentence: string,
    options?: { cause?: unknown },
  ) {
    super(`AuthBackendUnavailable ${sentence}`, options);
    this.name = 'AuthBackendUnavailable';
  }
}
