import { hash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type Clock, type Principal } from '@edge/auth-contract';

export interface KeyCacheOptions {
  readonly maxEntries: number;
  /** Upper bound for any entry's lifetime. */
  readonly maxTtlMs: number;
}

interface Entry {
  readonly keyId: string;
  readonly principal: Principal;
  /** Epoch ms; the entry is gone from this instant on (exact, unlike the LRU's own TTL check). */
  readonly expiresAt: number;
}

/**
 * Bounded LRU of positive key verifications, with a TTL per entry (`lru-cache`, on the injected
 * clock).
 *
 * Entries are keyed by key_id plus a SHA-256 of a random per-process salt and the secret, so the
 * raw secret is never stored. Only verified secrets are cached, and those carry 256 random bits,
 * so a salted fast hash is as safe here as a keyed one; it is also what the hot path can afford
 * (one-shot `crypto.hash` costs ~0.4 µs; `createHmac` with a raw key re-imports the key on every
 * call, ~10 µs, which was ~16 % of this process's busy time under load). A key_id can be dropped
 * at once (revocation / rotation event): an index from key_id to its cache keys is kept in step
 * with the LRU through its `dispose` callback (eviction, expiry, deletion). Every invalidation
 * bumps `generation`, which lets a caller that started a verification before an invalidation
 * avoid caching a result that may already be stale.
 */
export class KeyCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly byKeyId = new Map<string, Set<string>>();
  private readonly salt = randomBytes(32).toString('base64url');
  private gen = 0;

  constructor(
    private readonly clock: Clock,
    private readonly opts: KeyCacheOptions,
  ) {
    this.entries = new LRUCache<string, Entry>({
      max: opts.maxEntries,
      perf: { now: () => clock.nowMs() },
      // Read the clock on every check (the default caches it for 1 ms with a timer).
      ttlResolution: 0,
      dispose: (e, cacheKey) => this.unindex(cacheKey, e.keyId),
    });
  }

  /** Cache key for (keyId, secret). Contains the key id and a salted hash of the secret only. */
  cacheKey(keyId: string, secret: string): string {
    return `${keyId}\u0000${hash('sha256', this.salt + secret, 'base64url')}`;
  }

  /** The principal, or undefined when absent or expired (an expired entry is dropped). */
  get(cacheKey: string): Principal | undefined {
    const e = this.entries.get(cacheKey);
    if (e === undefined) return undefined;
    // lru-cache keeps an entry while its age <= ttl; a key expiring at T must not pass at T.
    if (this.clock.nowMs() >= e.expiresAt) {
      this.entries.delete(cacheKey);
      return undefined;
    }
    return e.principal;
  }

  /** Stores a positive result for at most `ttlMs` (capped by the configured TTL). */
  set(cacheKey: string, principal: Principal, ttlMs: number): void {
    const ttl = Math.min(ttlMs, this.opts.maxTtlMs);
    if (ttl <= 0) return;
    const keyId = cacheKey.slice(0, cacheKey.indexOf('\u0000'));
    this.entries.set(cacheKey, { keyId, principal, expiresAt: this.clock.nowMs() + ttl }, { ttl });
    let set = this.byKeyId.get(keyId);
    if (set === undefined) {
      set = new Set();
      this.byKeyId.set(keyId, set);
    }
    set.add(cacheKey);
  }

  /** Drops every entry of a key_id (all secrets). Returns how many were dropped. */
  invalidateKeyId(keyId: string): number {
    this.gen++;
    const set = this.byKeyId.get(keyId);
    if (set === undefined) return 0;
    const keys = [...set];
    for (const k of keys) this.entries.delete(k);
    this.byKeyId.delete(keyId);
    return keys.length;
  }

  clear(): void {
    this.gen++;
    this.entries.clear();
    this.byKeyId.clear();
  }

  /** Bumped by every invalidation and clear. */
  get generation(): number {
    return this.gen;
  }

  /** Marks a change that makes in-flight results untrustworthy without dropping entries. */
  bumpGeneration(): void {
    this.gen++;
  }

  get size(): number {
    return this.entries.size;
  }

  /** For tests: the stored keys (never contain a raw secret). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  private unindex(cacheKey: string, keyId: string): void {
    const set = this.byKeyId.get(keyId);
    if (set === undefined) return;
    set.delete(cacheKey);
    if (set.size === 0) this.byKeyId.delete(keyId);
  }
}
