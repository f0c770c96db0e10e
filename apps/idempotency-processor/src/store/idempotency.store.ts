/** A stored upstream response: what a replay sends back. */
export interface StoredResponse {
  status: number;
  /** Header pairs in order (hop-by-hop headers and `date` left out). */
  headers: [string, string][];
  body: Buffer;
}

/** The result of trying to take the lock of an entry. */
export type AcquireResult =
  | { kind: 'acquired' }
  | { kind: 'in-flight'; fingerprint: string }
  | { kind: 'completed'; fingerprint: string; response: StoredResponse }
  /** The request completed but its response was too large (or failed) to store. */
  | { kind: 'completed-not-stored'; fingerprint: string; status: number };

/** How a completed request is recorded. */
export type Completion =
  { stored: true; response: StoredResponse } | { stored: false; status: number };

/**
 * Where entries live. Every call is one atomic operation; each rejects (never hangs) when the
 * store is down or slower than its command timeout.
 */
export interface IdempotencyStore {
  /**
   * Atomically: if no entry exists, create an in-flight lock owned by `owner` that expires
   * after `lockTtlMs`; otherwise return the existing entry. Never check-then-set.
   */
  acquire(
    key: string,
    lock: { fingerprint: string; owner: string; lockTtlMs: number },
  ): Promise<AcquireResult>;
  /**
   * Turns `owner`'s in-flight lock into a completed entry kept `retentionMs`, in one step (the
   * lock is never released before the response is stored). False when the lock is no longer
   * `owner`'s (it expired).
   */
  complete(
    key: string,
    owner: string,
    completion: Completion,
    retentionMs: number,
  ): Promise<boolean>;
  /** Deletes `owner`'s in-flight lock (a retry may then execute). False when not `owner`'s. */
  release(key: string, owner: string): Promise<boolean>;
}

export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');
