import { hash, randomBytes } from 'node:crypto';
import { type Clock, type Principal } from '@edge/auth-contract';

export interface KeyCacheOptions {
  readonly maxEntries: number;
  /** Upper bound for any entry's lifetime. */
  readonly maxTtlMs: number;
}

interface Entry {
  readonly keyId: string;
  readonly principal: Principal;
  readonly expiresAt: number;
}

/**
 * Bounded LRU of positive key verifications, with a TTL per entry.
 *
 * Entries are keyed by key_id plus a SHA-256 of a random per-process salt and the secret, so the
 * raw secret is never stored. Only verified secrets are cached, and those carry 256 random bits,
 * so a salted fast hash is as safe here as a keyed one; it is also what the hot path can afford
 * (one-shot `crypto.hash` costs ~0.4 µs; `createHmac` with a raw key re-imports the key on every
 * call, ~10 µs, which was ~16 % of this process's busy time under load). A key_id can be dropped
 * at once (revocation / rotation event), and
 * every mutation bumps `generation`, which lets a caller that started a verification before an
 * invalidation avoid caching a result that may already be stale.
 */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byKeyId = new Map<string, Set<string>>();
  private readonly salt = randomBytes(32).toString('base64url');
  private gen = 0;

  constructor(
    private readonly clock: Clock,
    private readonly opts: KeyCacheOptions,
  ) {}

  /** Cache key for (keyId, secret). Contains the key id and a salted hash of the secret only. */
  cacheKey(keyId: string, secret: string): string {
    return `${keyId}\u0000${hash('sha256', this.salt + secret, 'base64url')}`;
  }

  get(cacheKey: string): Principal | undefined {
    const e = this.entries.get(cacheKey);
    if (e === undefined) return undefined;
    if (this.clock.nowMs() >= e.expiresAt) {
      this.remove(cacheKey, e);
      return undefined;
    }
    // Refresh recency: Map keeps insertion order, the first key is the least recently used.
    this.entries.delete(cacheKey);
    this.entries.set(cacheKey, e);
    return e.principal;
  }

  /** Stores a positive result for at most `ttlMs` (capped by the configured TTL). */
  set(cacheKey: string, principal: Principal, ttlMs: number): void {
    const ttl = Math.min(ttlMs, this.opts.maxTtlMs);
    if (ttl <= 0) return;
    const keyId = cacheKey.slice(0, cacheKey.indexOf('\u0000'));
    const old = this.entries.get(cacheKey);
    if (old !== undefined) this.remove(cacheKey, old);
    this.entries.set(cacheKey, { keyId, principal, expiresAt: this.clock.nowMs() + ttl });
    let set = this.byKeyId.get(keyId);
    if (set === undefined) {
      set = new Set();
      this.byKeyId.set(keyId, set);
    }
    set.add(cacheKey);
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.entries().next();
      if (oldest.done === true) break;
      const [k, e] = oldest.value;
      this.remove(k, e);
    }
  }

  /** Drops every entry of a key_id (all secrets). Returns how many were dropped. */
  invalidateKeyId(keyId: string): number {
    this.gen++;
    const set = this.byKeyId.get(keyId);
    if (set === undefined) return 0;
    for (const k of set) this.entries.delete(k);
    this.byKeyId.delete(keyId);
    return set.size;
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

  private remove(cacheKey: string, e: Entry): void {
    this.entries.delete(cacheKey);
    const set = this.byKeyId.get(e.keyId);
    if (set !== undefined) {
      set.delete(cacheKey);
      if (set.size === 0) this.byKeyId.delete(e.keyId);
    }
  }
}
