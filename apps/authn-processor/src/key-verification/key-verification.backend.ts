import { type Principal } from '@edge/auth-contract';

/** What the auth service said about one (key_id, secret). */
export type VerifyKeyOutcome =
  | { readonly kind: 'ok'; readonly principal: Principal; readonly cacheTtlMs: number }
  | { readonly kind: 'unknown-key' }
  | { readonly kind: 'wrong-secret' }
  | { readonly kind: 'revoked' }
  | { readonly kind: 'expired' };

/** `sequence`: position in the auth service's key-event log (resume after it). */
export type KeyEvent =
  | { readonly type: 'subscribed'; readonly sequence?: number }
  | {
      readonly type: 'revoked' | 'rotated';
      readonly keyId: string;
      readonly sequence?: number;
      /**
       * When it happened (epoch ms), if the server said. For `rotated`, the rotation time: the
       * key's tokens issued before the next whole second are refused.
       */
      readonly atMs?: number;
    };

/**
 * Keys revoked within a window, keys rotated within it with their cut-off (`tokens_not_before`:
 * the key's tokens issued before it are refused; absent from an older auth service), and the
 * log sequence the list reflects.
 */
export interface RevokedKeysSnapshot {
  readonly keys: readonly { readonly keyId: string; readonly revokedAtMs: number }[];
  readonly rotated?: readonly { readonly keyId: string; readonly notBeforeMs: number }[];
  readonly sequence: number;
}

/** The server cannot resume from the sequence given (another log): list again. */
export class KeyEventLogReset extends Error {
  constructor() {
    super('key-event log cannot resume from this sequence');
    this.name = 'KeyEventLogReset';
  }
}

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
  /** From `afterSequence` (replayed first) when given, else from now on. */
  abstract watchKeyEvents(listener: KeyEventListener, afterSequence?: number): KeyEventSubscription;
  /** Rejects with AuthBackendUnavailable when the auth service cannot answer. */
  abstract listRevokedKeys(withinSeconds: number): Promise<RevokedKeysSnapshot>;
  abstract close(): void;
}
