import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import { type Clock } from '@edge/auth-contract';
import { type Logger } from '../logging/logger';
import { type JwksFetcher } from './jwks.fetcher';

export interface JwksCacheOptions {
  /** A key set older than this is refetched (a failed refetch keeps the old one). */
  readonly maxAgeMs: number;
  /** At most one refetch per cooldown for unknown `kid`s (an attacker's random kids cost nothing). */
  readonly cooldownMs: number;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/** Called when a refetch dropped or changed a key that the previous set had. */
export type KeysRemovedListener = () => void;

/**
 * The auth service's JWKS, cached. Refetched when older than maxAge, and on a token whose
 * `kid` is unknown, but then at most once per cooldown; concurrent refetches are coalesced.
 * When a refetch no longer contains a key of the previous set (retired, or same `kid` with
 * other material or parameters), the `onKeysRemoved` listeners run, synchronously with the
 * swap, so nothing verified with the old key can be served from a cache after it.
 */
export class JwksCache {
  private local: LocalSet | undefined;
  /** Canonical JSON of every key in the current set. */
  private keyPrints: ReadonlySet<string> | undefined;
  private readonly removedListeners: KeysRemovedListener[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  fetches = 0;

  constructor(
    private readonly fetcher: JwksFetcher,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: JwksCacheOptions,
  ) {}

  /** For jose's jwtVerify. */
  readonly getKey: JWTVerifyGetKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ) => {
    if (this.local === undefined) {
      await this.refresh(); // throws AuthBackendUnavailable when there is nothing to use
    } else if (this.clock.nowMs() - this.fetchedAt >= this.opts.maxAgeMs) {
      await this.refresh().catch((e: unknown) => {
        this.logger.warn(
          { event: 'jwks_refresh_failed', err: (e as Error).message },
          'JWKS refresh failed, keeping the cached key set',
        );
      });
    }
    try {
      return await this.current()(header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
      if (this.clock.nowMs() - this.lastAttempt < this.opts.cooldownMs) throw e;
      await this.refresh();
      return this.current()(header, token);
    }
  };

  /** Registers a listener for "a key of the previous set is gone" (see the class comment). */
  onKeysRemoved(listener: KeysRemovedListener): void {
    this.removedListeners.push(listener);
  }

  private current(): LocalSet {
    if (this.local === undefined) throw new errors.JWKSNoMatchingKey();
    return this.local;
  }

  /** Fetches now (coalesced with a fetch in flight). */
  refresh(): Promise<void> {
    this.inFlight ??= (async () => {
      this.lastAttempt = this.clock.nowMs();
      this.fetches++;
      try {
        const set: JSONWebKeySet = await this.fetcher.fetch();
        const prints = new Set(set.keys.map(keyPrint));
        const previous = this.keyPrints;
        this.local = createLocalJWKSet(set);
        this.keyPrints = prints;
        this.fetchedAt = this.clock.nowMs();
        this.logger.debug({ event: 'jwks_fetched', keys: set.keys.length }, 'JWKS fetched');
        if (previous !== undefined && [...previous].some((p) => !prints.has(p))) {
          this.logger.info(
            { event: 'jwks_keys_removed', keys: set.keys.length },
            'JWKS no longer has a key it had; dropping results verified with the old set',
          );
          for (const listener of this.removedListeners) listener();
        }
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}

/** Canonical JSON of a JWK (object keys sorted at every level), to compare key sets. */
export function keyPrint(jwk: JWK): string {
  return JSON.stringify(sortKeys(jwk));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortKeys(o[k])]),
  );
}
