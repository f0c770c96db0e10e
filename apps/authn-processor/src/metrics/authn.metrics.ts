import { Counter, Gauge, type Registry } from 'prom-client';
import { type VerifiedTokenCache } from '../jwt/verified-token.cache';
import { type KeyCache } from '../key-verification/key-cache';
import { type KeyEventsWatcher } from '../key-verification/key-events.watcher';
import { type KeyVerifier } from '../key-verification/key-verifier';

/** Records one decision per request (allow / public / error code). */
export interface DecisionRecorder {
  record(outcome: string): void;
}

/**
 * The processor's own Prometheus metrics, in the ext_proc server's registry. Cache and stream
 * figures are read at scrape time, so the hot path pays only for the decision counter.
 */
export class AuthnMetrics implements DecisionRecorder {
  private readonly decisions: Counter<'outcome'>;
  private readonly children = new Map<string, { inc(): void }>();

  constructor(
    registry: Registry,
    verifier: KeyVerifier,
    cache: KeyCache,
    watcher: KeyEventsWatcher,
    tokenCache: VerifiedTokenCache,
  ) {
    const registers = [registry];
    this.decisions = new Counter({
      name: 'authn_decisions_total',
      help: 'Authentication decisions by outcome (allow, public, or the error code)',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'authn_key_cache_entries',
      help: 'Positive key verifications cached',
      registers,
      collect() {
        this.set(cache.size);
      },
    });
    new Gauge({
      name: 'authn_key_events_stream_live',
      help: '1 while the WatchKeyEvents stream is live (cache in use), else 0',
      registers,
      collect() {
        this.set(watcher.live ? 1 : 0);
      },
    });
    const stat = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    stat(
      'authn_key_cache_hits_total',
      'Basic requests answered from the cache',
      () => verifier.stats.hits,
    );
    stat(
      'authn_key_cache_misses_total',
      'Basic requests not answered from the cache',
      () => verifier.stats.misses,
    );
    stat(
      'authn_verify_key_calls_total',
      'VerifyKey calls made (after single-flight)',
      () => verifier.stats.backendCalls,
    );
    new Gauge({
      name: 'authn_jwt_cache_entries',
      help: 'Verified JWTs cached',
      registers,
      collect() {
        this.set(tokenCache.size);
      },
    });
    stat(
      'authn_jwt_cache_hits_total',
      'Bearer requests answered from the verified-token cache (no signature check)',
      () => tokenCache.stats.hits,
    );
    stat(
      'authn_jwt_cache_misses_total',
      'Bearer requests not answered from the verified-token cache (0 while it is disabled)',
      () => tokenCache.stats.misses,
    );
  }

  record(outcome: string): void {
    let c = this.children.get(outcome);
    if (c === undefined) {
      c = this.decisions.labels(outcome);
      this.children.set(outcome, c);
    }
    c.inc();
  }
}
