import { type Principal } from '../authn/principal';

/** What the auth service said about one (key_id, secret). */
export type VerifyKeyOutcome =
  | { readonly kind: 'ok'; readonly principal: Principal; readonly cacheTtlMs: number }
  | { readonly kind: 'unknown-key' }
  | { readonly kind: 'wrong-secret' }
  | { readonly kind: 'revoked' }
  | { readonly kind: 'expired' };

export type KeyEvent =
  | { readonly type: 'subscribed' }
  | {
      readonly type: 'revoked' | 'rotated';
      readonly keyId: string;
      /** When it happened (epoch ms), when the auth service said. */
      readonly at?: number;
    };

export interface KeyEventListener {
  onEvent(event: KeyEvent): void;
  /** The stream ended or failed; no further callbacks for this subscription. */
  onClose(error: Error | undefined): void;
}

export interface KeyEventSubscription {
  cancel(): void;
}

/**
 * The auth service's key verification API, as the processor needs it. Implemented over gRPC by
 * GrpcKeyVerificationBackend; unit tests substitute their own. `verifyKey` rejects with
 * AuthBackendUnavailable when the auth service cannot give an answer.
 */
export abstract class KeyVerificationBackend {
  abstract verifyKey(keyId: string, secret: string): Promise<VerifyKeyOutcome>;
  abstract watchKeyEvents(listener: KeyEventListener): KeyEventSubscription;
  abstract close(): void;
}
