import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type Outcome =
  /** first request with a key: lock taken, let through */
  | 'acquired'
  | 'replayed'
  /** 409: same key in flight */
  | 'conflict'
  /** 422: same key, other payload */
  | 'mismatch'
  /** 409: completed earlier, response was not stored */
  | 'not_stored_conflict'
  | 'missing_key'
  | 'malformed_key'
  | 'unauthenticated'
  | 'route_misconfigured'
  | 'store_unavailable_rejected'
  | 'store_unavailable_passed';

export type StoreResult =
  | 'stored'
  | 'too_large'
  | 'lock_lost'
  | 'failed'
  | 'released_5xx'
  /** the stream ended after the upstream answered, before the body was stored */
  | 'interrupted';

/** What the processor records; the hot path only increments pre-resolved children. */
export interface IdempotencyRecorder {
  outcome(o: Outcome): void;
  /** An existing entry was found for the key (in flight or completed). */
  hit(): void;
  /** Seconds spent taking (or failing to take) the lock in Redis. */
  lockWait(seconds: number): void;
  redisError(op: 'acquire' | 'complete' | 'release'): void;
  stored(r: StoreResult): void;
}

export class IdempotencyMetrics implements IdempotencyRecorder {
  private readonly outcomes: Counter<'outcome'>;
  private readonly hits: Counter;
  private readonly waits: Histogram;
  private readonly errors: Counter<'op'>;
  private readonly results: Counter<'result'>;

  constructor(registry: Registry, redisUp: () => boolean) {
    const registers = [registry];
    this.outcomes = new Counter({
      name: 'idempotency_requests_total',
      help: 'Requests with idempotency applied, by outcome (replayed, conflict = 409 in flight, mismatch = 422, ...)',
      labelNames: ['outcome'],
      registers,
    });
    this.hits = new Counter({
      name: 'idempotency_hits_total',
      help: 'Requests whose key matched an existing entry (in flight or completed)',
      registers,
    });
    this.waits = new Histogram({
      name: 'idempotency_lock_wait_seconds',
      help: 'Time spent taking the lock (one atomic Redis script), successful or not',
      buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.errors = new Counter({
      name: 'idempotency_redis_errors_total',
      help: 'Redis calls that failed or timed out, by operation',
      labelNames: ['op'],
      registers,
    });
    this.results = new Counter({
      name: 'idempotency_responses_total',
      help: 'What happened to first-execution responses (stored, too_large, lock_lost, failed, released_5xx, interrupted)',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
      name: 'idempotency_redis_up',
      help: '1 while the Redis connection is ready, else 0',
      registers,
      collect() {
        this.set(redisUp() ? 1 : 0);
      },
    });
  }

  outcome(o: Outcome): void {
    this.outcomes.labels(o).inc();
  }
  hit(): void {
    this.hits.inc();
  }
  lockWait(seconds: number): void {
    this.waits.observe(seconds);
  }
  redisError(op: 'acquire' | 'complete' | 'release'): void {
    this.errors.labels(op).inc();
  }
  stored(r: StoreResult): void {
    this.results.labels(r).inc();
  }
}
