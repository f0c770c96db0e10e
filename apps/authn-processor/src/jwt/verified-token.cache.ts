import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type TokenVerifier } from '../authn/authenticator';
import { SingleFlight } from '../key-verification/single-flight';
import { type Clock, type Principal } from '@edge/auth-contract';

export interface VerifiedTokenCacheOptions {
  /** LRU bound; 0 disables the cache (every Bearer request is verified). */
  readonly maxEntries: number;
  /** Upper bound for any entry's lifetime; the token's `exp` may lower it. */
  readonly maxTtlMs: number;
  /** The verifier's clock tolerance: a token is never accepted once `now >= exp + tolerance`. */
  readonly clockToleranceSeconds: number;
}

interface Entry {
  readonly principal: Principal;
  /** The token's `exp`, epoch seconds. */
  readonly exp: number;
  /** Epoch ms: min(exp, cached at + maxTtl). */
  readonly until: number;
}

/**
 * Bounded LRU of successfully verified JWTs (principal + `exp`), so a repeated Bearer token
 * skips the signature check (`lru-cache`, on the injected clock).
 *
 * Keyed by the SHA-256 of the token, so the bearer secret itself is never held, and an entry
 * lives until min(`exp`, now + maxTtl). Only successes are stored. The whole cache is emptied
 * when the JWKS loses a key (see JwksCache.onKeysRemoved); every clear bumps `generation`, so
 * a verification that started before a clear is not stored after it. Revocation is not the
 * cache's job: the Authenticator checks the principal's key_id on every request, hit or miss.
 */
export class VerifiedTokenCache {
  /** Undefined when disabled (`maxEntries` 0). */
  private readonly entries: LRUCache<string, Entry> | undefined;
  private gen = 0;
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly opts: VerifiedTokenCacheOptions,
  ) {
    this.entries =
      opts.maxEntries > 0
        ? new LRUCache<string, Entry>({
            max: opts.maxEntries,
            perf: { now: () => clock.nowMs() },
            // Read the clock on every check (the default caches it for 1 ms with a timer).
            ttlResolution: 0,
          })
        : undefined;
  }

  get enabled(): boolean {
    return this.entries !== undefined;
  }

  /** Cache key of a token: its SHA-256 (base64url), never the token. */
  cacheKey(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  get(cacheKey: string): Principal | undefined {
    const e = this.entries?.get(cacheKey);
    if (e === undefined) {
      this.stats.misses++;
      return undefined;
    }
    const now = this.clock.nowMs();
    // The same rule as jose's `exp` check (whole seconds, with the tolerance), and never past
    // `until`: the LRU's TTL has a 1 ms boundary of its own, this guard is the exact one, so a
    // hit can never outlive what the verifier accepts.
    if (now >= e.until || e.exp <= Math.floor(now / 1000) - this.opts.clockToleranceSeconds) {
      this.entries?.delete(cacheKey);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return e.principal;
  }

  /**
   * Stores a verified principal, unless the cache was cleared since `generation` was read
   * (the result may have been verified with a key that is gone now), or it expires already.
   */
  set(cacheKey: string, principal: Principal, generation: number): void {
    const entries = this.entries;
    if (entries === undefined || generation !== this.gen || principal.validUntil === null) return;
    const expMs = principal.validUntil.getTime();
    const now = this.clock.nowMs();
    const until = Math.min(expMs, now + this.opts.maxTtlMs);
    if (until <= now) return;
    entries.set(
      cacheKey,
      { principal, exp: Math.floor(expMs / 1000), until },
      { ttl: until - now },
    );
  }

  clear(): void {
    this.gen++;
    this.entries?.clear();
  }

  /** Bumped by every clear. */
  get generation(): number {
    return this.gen;
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  /** For tests: the stored keys (hashes, never a token). */
  keys(): string[] {
    return this.entries === undefined ? [] : [...this.entries.keys()];
  }
}

/**
 * A TokenVerifier that answers repeated tokens from a VerifiedTokenCache and verifies the
 * rest with the real verifier. Failures (401 and 503 alike) are never cached.
 *
 * Concurrent misses on one token share one verification: when a busy client's entry expires,
 * the requests in flight with it would otherwise each pay a signature check. The flight is keyed
 * by the cache generation too, so a request that arrives after a clear never joins a
 * verification that started before it (with a key that may be gone now).
 */
export class CachingTokenVerifier implements TokenVerifier {
  private readonly flights = new SingleFlight<Principal>();

  constructor(
    private readonly inner: TokenVerifier,
    private readonly cache: VerifiedTokenCache,
  ) {}

  async verify(token: string): Promise<Principal> {
    if (!this.cache.enabled) return this.inner.verify(token);
    const key = this.cache.cacheKey(token);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const generation = this.cache.generation;
    return this.flights.run(`${generation}:${key}`, async () => {
      const principal = await this.inner.verify(token);
      this.cache.set(key, principal, generation);
      return principal;
    });
  }

  /** Verifications in flight (distinct tokens being checked right now). */
  get inFlight(): number {
    return this.flights.size;
  }
}
