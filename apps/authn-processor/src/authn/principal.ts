/** A verified caller, whichever credential proved it. */
export interface Principal {
  readonly via: 'basic' | 'bearer';
  readonly tenant: string;
  readonly userId: string;
  /** The API key that authenticated (Basic), or the key a token was issued for, if it says. */
  readonly keyId: string | undefined;
  /** `resource:action` pairs. */
  readonly scopes: readonly string[];
  /** Epoch ms after which the credential is no longer valid, if it expires. */
  readonly expiresAt: number | undefined;
  /** Bearer: the token's `iat` (epoch ms), if it has one. */
  readonly issuedAt?: number | undefined;
}
