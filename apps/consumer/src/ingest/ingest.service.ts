import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { type Consumer } from 'kafkajs';
import { CONSUMER_CONFIG, type ConsumerConfig } from '../config/consumer.config';
import { LOGGER, type AppLogger } from '../common/logger';
import { ConsumerMetrics } from '../metrics/consumer.metrics';
import { type RecordRow, RecordStore } from './record-store';

interface Entry {
  row: RecordRow | undefined;
  topic: string;
  partition: number;
  offset: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Batches decoded records into multi-row inserts and commits Kafka offsets only after the
 * insert that covers them (at-least-once; the insert is idempotent by request id, so a
 * redelivery is stored once). Dead-lettered records pass through as entries without a row, so
 * their offsets are committed in order too. While Postgres fails the batch is retried and
 * `add` waits once PENDING_MAX_RECORDS are held: consumption pauses instead of losing records.
 */
@Injectable()
export class IngestService implements BeforeApplicationShutdown {
  private pending: Entry[] = [];
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private roomWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    @Inject(CONSUMER_CONFIG) private readonly config: ConsumerConfig,
    @Inject(RecordStore) private readonly store: RecordStore,
    @Inject(ConsumerMetrics) private readonly metrics: ConsumerMetrics,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Queues one consumed message (row undefined: dead-lettered, only its offset counts). */
  async add(entry: Entry, consumer: Consumer, heartbeat: () => Promise<void>): Promise<void> {
    this.consumer = consumer;
    while (this.pending.length >= this.config.PENDING_MAX_RECORDS && !this.stopped) {
      await new Promise<void>((r) => {
        this.roomWaiters.push(r);
        setTimeout(r, 1000);
      });
      await heartbeat().catch(() => undefined);
    }
    this.pending.push(entry);
    if (this.pending.length >= this.config.BATCH_MAX_RECORDS) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.config.BATCH_LINGER_MS);
  }

  private kick(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing ??= this.flushAll().finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0 && !this.stopped) this.kick();
    });
  }

  private async flushAll(): Promise<void> {
    let delay = 100;
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.config.BATCH_MAX_RECORDS);
      const rows = batch.flatMap((e) => (e.row === undefined ? [] : [e.row]));
      const end = this.metrics.insertDuration.startTimer();
      try {
        const inserted = await this.store.insertBatch(rows);
        end();
        this.metrics.stored.inc(inserted);
        this.metrics.duplicates.inc(rows.length - inserted);
        delay = 100;
      } catch (err) {
        this.metrics.insertFailures.inc();
        this.logger.warn(
          { event: 'insert_failed', err: (err as Error).message, pending: this.pending.length },
          'storing records failed; retrying (offsets not committed)',
        );
        if (this.stopped) return;
        await sleep(delay);
        delay = Math.min(delay * 2, this.config.INSERT_RETRY_MAX_MS);
        continue;
      }
      this.pending = this.pending.slice(batch.length);
      for (const w of this.roomWaiters.splice(0)) w();
      await this.commit(batch);
    }
  }

  private async commit(batch: readonly Entry[]): Promise<void> {
    const next = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const e of batch) {
      const k = `${e.topic}\u0000${e.partition}`;
      const prev = next.get(k);
      const o = (BigInt(e.offset) + 1n).toString();
      if (prev === undefined || BigInt(o) > BigInt(prev.offset)) {
        next.set(k, { topic: e.topic, partition: e.partition, offset: o });
      }
    }
    try {
      await this.consumer?.commitOffsets([...next.values()]);
    } catch (err) {
      // A rebalance moved the partition: the new owner re-reads, the insert is idempotent.
      this.logger.warn(
        { event: 'commit_failed', err: (err as Error).message },
        'offset commit failed; records may be redelivered (stored once)',
      );
    }
  }

  /** Before the Kafka consumer disconnects: store and commit what is pending. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.pending.length > 0) this.kick();
    const deadline = Date.now() + 10_000;
    while ((this.flushing !== undefined || this.pending.length > 0) && Date.now() < deadline) {
      await (this.flushing ?? sleep(10));
    }
    this.stopped = true;
    for (const w of this.roomWaiters.splice(0)) w();
  }
}
