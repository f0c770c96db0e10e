import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Figures the publisher reads back at scrape time. */
export interface PublisherStats {
  readonly buffered: number;
  readonly bufferedBytes: number;
  readonly kafkaReachable: boolean;
}

/** The logging processor's Prometheus metrics (in the ext_proc server's registry). */
export class LoggingMetrics {
  readonly published: Counter;
  readonly dropped: Counter<'reason'>;
  readonly producerResets: Counter;
  readonly publishFailures: Counter;
  readonly publishLatency: Histogram;
  readonly recorded: Counter<'source'>;
  readonly lateHalves: Counter<'source'>;

  constructor(registry: Registry, stats: () => PublisherStats) {
    const registers = [registry];
    this.recorded = new Counter({
      name: 'logging_records_total',
      help: 'Records built (one per request), by source: ext_proc alone, access_log alone (a request the filter never saw), or merged (a local reply)',
      labelNames: ['source'],
      registers,
    });
    this.lateHalves = new Counter({
      name: 'logging_late_halves_total',
      help: 'An ext_proc record or access-log entry that came after its request was published (ignored: never published twice)',
      labelNames: ['source'],
      registers,
    });
    this.published = new Counter({
      name: 'logging_records_published_total',
      help: 'Records Kafka acknowledged',
      registers,
    });
    this.dropped = new Counter({
      name: 'logging_records_dropped_total',
      help: 'Records dropped: buffer full (Kafka slow or down beyond the bound), not flushed at shutdown, or larger than Kafka accepts',
      labelNames: ['reason'],
      registers,
    });
    this.producerResets = new Counter({
      name: 'logging_producer_resets_total',
      help: 'Kafka producers replaced after an error only a new producer id recovers from (e.g. out-of-order sequence after a broker restart)',
      registers,
    });
    this.publishFailures = new Counter({
      name: 'logging_publish_failures_total',
      help: 'Produce requests that failed (the batch is kept and retried)',
      registers,
    });
    this.publishLatency = new Histogram({
      name: 'logging_publish_duration_seconds',
      help: 'Duration of one successful produce request (a batch)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    new Gauge({
      name: 'logging_records_buffered',
      help: 'Records waiting in memory for Kafka',
      registers,
      collect() {
        this.set(stats().buffered);
      },
    });
    new Gauge({
      name: 'logging_buffered_bytes',
      help: 'Encoded bytes waiting in memory for Kafka',
      registers,
      collect() {
        this.set(stats().bufferedBytes);
      },
    });
    new Gauge({
      name: 'logging_kafka_reachable',
      help: '1 while Kafka accepts produce requests, else 0',
      registers,
      collect() {
        this.set(stats().kafkaReachable ? 1 : 0);
      },
    });
  }
}
