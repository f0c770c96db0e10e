import { AuthnFailure } from '../authn/authn-error';
import { type Clock, type Principal } from '@edge/auth-contract';
import { type KeyCache } from './key-cache';
import { type KeyVerificationBackend } from './key-verification.backend';
import { SingleFlight } from './single-flight';
import { type UnknownKeys } from './unknown-keys';

/** Whether cached results may be used (the revocation stream is live). */
export interface CacheLiveness {
  readonly live: boolean;
}

export interface KeyVerifierStats {
  hits: number;
  misses: number;
  backendCalls: number;
  /** Unknown key ids answered from the negative cache. */
  unknownHits: number;
}

/**
 * Verifies key_id:secret: from the cache when the revocation stream is live, otherwise (or on
 * a miss) through the auth service, with concurrent identical lookups coalesced into one call.
 * A key id the auth service did not know is refused from the short negative cache
 * (`unknownKeys`) for a while. Throws AuthnFailure (401) or AuthBackendUnavailable (503).
 */
export class KeyVerifier {
  private readonly flights = new SingleFlight<Principal>();
  readonly stats: KeyVerifierStats = { hits: 0, misses: 0, backendCalls: 0, unknownHits: 0 };

  constructor(
    private readonly backend: KeyVerificationBackend,
    private readonly cache: KeyCache,
    private readonly liveness: CacheLiveness,
    private readonly clock: Clock,
    private readonly unknownKeys?: UnknownKeys,
  ) {}

  async verify(keyId: string, secret: string): Promise<Principal> {
    const cacheKey = this.cache.cacheKey(keyId, secret);
    if (this.liveness.live) {
      const hit = this.cache.get(cacheKey);
      if (hit !== undefined) {
        this.stats.hits++;
        return hit;
      }
    }
    if (this.unknownKeys?.has(keyId) === true) {
      this.stats.unknownHits++;
      throw unknownKey();
    }
    this.stats.misses++;
    return this.flights.run(cacheKey, () => this.callBackend(cacheKey, keyId, secret));
  }

  private async callBackend(cacheKey: string, keyId: string, secret: string): Promise<Principal> {
    const generation = this.cache.generation;
    const liveAtStart = this.liveness.live;
    this.stats.backendCalls++;
    const outcome = await this.backend.verifyKey(keyId, secret);
    switch (outcome.kind) {
      case 'ok': {
        const p = outcome.principal;
        this.unknownKeys?.delete(keyId);
        // Cache only if nothing was invalidated meanwhile and the stream was live throughout.
        if (liveAtStart && this.liveness.live && this.cache.generation === generation) {
          const untilExpiry =
            p.validUntil === null
              ? Number.POSITIVE_INFINITY
              : p.validUntil.getTime() - this.clock.nowMs();
          this.cache.set(cacheKey, p, Math.min(outcome.cacheTtlMs, untilExpiry));
        }
        return p;
      }
      case 'unknown-key':
        this.unknownKeys?.add(keyId);
        throw unknownKey();
      case 'wrong-secret':
        throw new AuthnFailure('InvalidSecret', 'The secret does not match the key', 'basic');
      case 'revoked':
        throw new AuthnFailure('RevokedKey', 'The key has been revoked', 'basic');
      case 'expired':
        throw new AuthnFailure('ExpiredKey', 'The key has expired', 'basic');
    }
  }
}

function unknownKey(): AuthnFailure {
  return new AuthnFailure('UnknownKey', 'The key id is not known', 'basic');
}
