import { LRUCache } from 'lru-cache';
import { type Clock } from '@edge/auth-contract';

export interface UnknownKeysOptions {
  readonly maxEntries: number;
  /** How long a key id the auth service did not know is answered from memory. Keep it short. */
  readonly ttlMs: number;
}

/**
 * A short negative cache of key ids the auth service answered "unknown" for, so that a client
 * hammering one bogus key id costs one backend call per TTL instead of one per request. Bounded
 * (LRU, `maxEntries`), keyed by key id only (an unknown key id is unknown whatever the secret),
 * never holds a secret.
 *
 * Invalidation: nothing announces key creation, so an entry lives at most `ttlMs` (2 s by
 * default): a key created after its id was looked up works at the latest `ttlMs` after that
 * lookup answered. Key ids are random, so in practice only a client that tried an id before it
 * existed ever waits.
 */
export class UnknownKeys {
  /** key id -> expiry (clock ms). Expiry is checked against the injected clock. */
  private readonly entries: LRUCache<string, number>;
  hits = 0;

  constructor(
    private readonly clock: Clock,
    private readonly opts: UnknownKeysOptions,
  ) {
    this.entries = new LRUCache<string, number>({ max: opts.maxEntries });
  }

  has(keyId: string): boolean {
    const expiresAt = this.entries.get(keyId);
    if (expiresAt === undefined) return false;
    if (this.clock.nowMs() >= expiresAt) {
      this.entries.delete(keyId);
      return false;
    }
    this.hits++;
    return true;
  }

  add(keyId: string): void {
    if (this.opts.ttlMs <= 0) return;
    this.entries.set(keyId, this.clock.nowMs() + this.opts.ttlMs);
  }

  /** Forgets one key id (e.g. when it is seen to exist). */
  delete(keyId: string): void {
    this.entries.delete(keyId);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
