import { type Scope } from './scopes';

/** How a caller proved who it is: an API key (HTTP Basic) or an access token (Bearer JWT). */
export type CredentialKind = 'api_key' | 'jwt';

/** A verified caller, whichever credential proved it; the same in the issuer and the gateway. */
export interface Principal {
  readonly tenant: string;
  readonly userId: string;
  /** The API key that authenticated, or the key a token was issued for (`key_id` claim). */
  readonly keyId: string;
  readonly scopes: readonly Scope[];
  readonly via: CredentialKind;
  /** When this credential stops working (key expiry, rotation grace, token `exp`), if ever. */
  readonly validUntil: Date | null;
  /**
   * Access tokens only: the token's `iat` (required by both sides). A key's tokens issued before
   * its last rotation cut-off are refused, by the issuer and by the gateway.
   */
  readonly issuedAt?: Date;
}
