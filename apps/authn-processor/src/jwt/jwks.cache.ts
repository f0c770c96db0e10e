import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import { type Clock } from '../common/clock';
import { type Logger } from '../logging/logger';
import { type JwksFetcher } from './jwks.fetcher';

export interface JwksCacheOptions {
  /** A key set older than this is refetched (a failed refetch keeps the old one). */
  readonly maxAgeMs: number;
  /** At most one refetch per cooldown for unknown `kid`s (an attacker's random kids cost nothing). */
  readonly cooldownMs: number;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/**
 * The auth service's JWKS, cached. Refetched when older than maxAge, and on a token whose
 * `kid` is unknown, but then at most once per cooldown; concurrent refetches are coalesced.
 */
export class JwksCache {
  private local: LocalSet | undefined;
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
    } else if (this.clock.now() - this.fetchedAt >= this.opts.maxAgeMs) {
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
      if (this.clock.now() - this.lastAttempt < this.opts.cooldownMs) throw e;
      await this.refresh();
      return this.current()(header, token);
    }
  };

  private current(): LocalSet {
    if (this.local === undefined) throw new errors.JWKSNoMatchingKey();
    return this.local;
  }

  /** Fetches now (coalesced with a fetch in flight). */
  refresh(): Promise<void> {
    this.inFlight ??= (async () => {
      this.lastAttempt = this.clock.now();
      this.fetches++;
      try {
        const set: JSONWebKeySet = await this.fetcher.fetch();
        this.local = createLocalJWKSet(set);
        this.fetchedAt = this.clock.now();
        this.logger.debug({ event: 'jwks_fetched', keys: set.keys.length }, 'JWKS fetched');
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}
