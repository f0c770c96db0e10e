import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { KafkaAdminService } from '../ingest/kafka-admin.service';

/** Throughput (counters), insert latency, dead letters and consumer lag (read at scrape time). */
@Injectable()
export class ConsumerMetrics {
  readonly stored: Counter;
  readonly duplicates: Counter;
  readonly deadLettered: Counter<'reason'>;
  readonly insertFailures: Counter;
  readonly insertDuration: Histogram;

  constructor(
    @Inject(Registry) registry: Registry,
    @Inject(KafkaAdminService) admin: KafkaAdminService,
  ) {
    const registers = [registry];
    this.stored = new Counter({
      name: 'consumer_records_stored_total',
      help: 'Records inserted (rate = stored records/s)',
      registers,
    });
    this.duplicates = new Counter({
      name: 'consumer_records_duplicate_total',
      help: 'Redelivered records already stored (ignored by request id)',
      registers,
    });
    this.deadLettered = new Counter({
      name: 'consumer_records_dead_lettered_total',
      help: 'Records sent to the dead-letter topic, by reason code',
      labelNames: ['reason'],
      registers,
    });
    this.insertFailures = new Counter({
      name: 'consumer_insert_failures_total',
      help: 'Batch inserts that failed (retried; offsets not committed)',
      registers,
    });
    this.insertDuration = new Histogram({
      name: 'consumer_insert_duration_seconds',
      help: 'Duration of one batch insert',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    new Gauge({
      name: 'consumer_lag_records',
      help: 'Records in the topic not yet committed by the consumer group (sum over partitions)',
      registers,
      async collect() {
        const lag = await admin.lag().catch(() => undefined);
        if (lag !== undefined) this.set(lag);
      },
    });
  }
}
