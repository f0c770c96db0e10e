import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type Producer } from 'kafkajs';
import { Clock } from '../common/clock';
import {
  LOGGING_PROCESSOR_CONFIG,
  type LoggingProcessorConfig,
} from '../config/logging-processor.config';
import { LOGGER, type Logger } from '../logging/logger';
import { type LoggingMetrics, type PublisherStats } from '../metrics/logging.metrics';
import { RecordBuffer, type PendingRecord } from './record-buffer';

/** Where the processor hands records: never blocks, never throws. */
export interface RecordSink {
  publish(record: PendingRecord): void;
}

/** kafkajs log lines into our logger (errors at warn: Kafka being down is expected, not a crash). */
function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry): void => {
      const { message, ...fields } = log;
      const f = { event: 'kafkajs', ...fields };
      if (level <= KafkaLogLevel.WARN) logger.warn(f, message);
      else logger.debug(f, message);
    };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Errors after which an idempotent producer cannot go on: its producer id or sequence numbers
 * no longer match the broker's (a broker that restarted without the producer's state answers
 * OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID to every later request). Retrying with the
 * same producer never succeeds; a new producer (a new producer id) does.
 */
const PRODUCER_FATAL = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);
/** Kafka refused the batch for its size: retrying it unchanged never succeeds. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The Kafka protocol error type behind a kafkajs error (kafkajs wraps it in `cause`). */
export function kafkaErrorType(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const bytesOf = (batch: readonly PendingRecord[]): number =>
  batch.reduce((n, r) => n + r.value.length, 0);

/**
 * Publishes records to Kafka off the request path: `publish()` only appends to a bounded
 * in-memory buffer; one loop takes batches from it and sends them with an idempotent producer
 * (acks=all). While Kafka is down the batch in flight is retried (by kafkajs, then by the loop)
 * and new records wait in the buffer; beyond the bound they are dropped, counted and logged.
 * Shutdown flushes the buffer (bounded by SHUTDOWN_FLUSH_TIMEOUT_MS).
 */
@Injectable()
export class KafkaPublisher implements RecordSink, OnApplicationShutdown {
  private readonly buffer: RecordBuffer;
  private readonly kafka: Kafka;
  private producer: Producer;
  /** BATCH_MAX_BYTES, halved while Kafka refuses batches as too large (its limit is lower). */
  private batchMaxBytes: number;
  private metrics: LoggingMetrics | undefined;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopping = false;
  private abandon = false;
  private connected = false;
  private sendingSince: number | undefined;
  private lastSendFailed = false;
  /** The loop sleeps on an empty buffer: the next record wakes it. */
  private emptyWait = false;
  private droppedSinceLog = 0;
  private lastDropLog = 0;

  constructor(
    @Inject(LOGGING_PROCESSOR_CONFIG) private readonly config: LoggingProcessorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    this.buffer = new RecordBuffer({
      maxRecords: config.BUFFER_MAX_RECORDS,
      maxBytes: config.BUFFER_MAX_BYTES,
    });
    this.batchMaxBytes = config.BATCH_MAX_BYTES;
    this.kafka = new Kafka({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
      connectionTimeout: 1_000,
      requestTimeout: config.KAFKA_REQUEST_TIMEOUT_MS,
      logCreator: kafkaLogCreator(logger),
      retry: { initialRetryTime: 100, maxRetryTime: config.PUBLISH_RETRY_MAX_MS, retries: 5 },
    });
    this.producer = this.createProducer();
  }

  /**
   * An idempotent producer: a retried produce request is written once (acks=all, one request in
   * flight). Its retries are left unbounded (kafkajs' rule for idempotence); the loop below is
   * what keeps the request path independent of how long that takes. Unit tests override this.
   */
  protected createProducer(): Producer {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      retry: {
        initialRetryTime: this.config.PUBLISH_RETRY_INITIAL_MS,
        maxRetryTime: this.config.PUBLISH_RETRY_MAX_MS,
        retries: Number.MAX_SAFE_INTEGER,
      },
    });
    producer.on(producer.events.CONNECT, () => {
      if (producer === this.producer) this.connected = true;
    });
    producer.on(producer.events.DISCONNECT, () => {
      if (producer === this.producer) this.connected = false;
    });
    return producer;
  }

  /**
   * Replaces the producer after an error only a new producer id recovers from. The batch in
   * flight is sent again by the new producer: a part the old one had written may be in the
   * topic twice, and the consumer stores a request id once.
   */
  private async resetProducer(type: string): Promise<void> {
    const old = this.producer;
    this.producer = this.createProducer();
    this.connected = false;
    this.metrics?.producerResets.inc();
    this.logger.warn(
      { event: 'kafka_producer_reset', error_type: type, buffered: this.buffer.size },
      'Kafka refused the producer id or its sequence numbers; continuing with a new producer',
    );
    await old.disconnect().catch(() => undefined);
    await this.connect();
  }

  /** Figures for metrics and health. */
  stats(): PublisherStats {
    return {
      buffered: this.buffer.size,
      bufferedBytes: this.buffer.byteSize,
      kafkaReachable: this.kafkaReachable(),
    };
  }

  /** False while a produce request hangs longer than its timeout, or the last one failed. */
  kafkaReachable(): boolean {
    if (!this.connected || this.lastSendFailed) return false;
    const since = this.sendingSince;
    return (
      since === undefined || this.clock.monotonic() - since < this.config.KAFKA_REQUEST_TIMEOUT_MS
    );
  }

  /** Starts the loop (connecting in the background: Kafka may be down at start-up). */
  start(metrics: LoggingMetrics): void {
    this.metrics = metrics;
    this.loopDone ??= this.loop();
  }

  publish(record: PendingRecord): void {
    if (this.stopping || !this.buffer.offer(record)) {
      this.dropped(1, this.stopping ? 'shutdown' : 'buffer_full');
      return;
    }
    if (
      this.wake !== undefined &&
      (this.emptyWait || this.buffer.size >= this.config.BATCH_MAX_RECORDS)
    )
      this.wake();
  }

  private dropped(n: number, reason: 'buffer_full' | 'shutdown' | 'too_large'): void {
    this.metrics?.dropped.labels(reason).inc(n);
    this.droppedSinceLog += n;
    const now = this.clock.monotonic();
    if (this.lastDropLog === 0 || now - this.lastDropLog >= 10_000) {
      this.logger.warn(
        {
          event: 'records_dropped',
          reason,
          dropped: this.droppedSinceLog,
          buffered: this.buffer.size,
          max_records: this.config.BUFFER_MAX_RECORDS,
        },
        reason === 'buffer_full'
          ? 'audit records dropped: buffer full (Kafka slow or down beyond the bound)'
          : `audit records dropped (${reason})`,
      );
      this.droppedSinceLog = 0;
      this.lastDropLog = now;
    }
  }

  private async connect(): Promise<void> {
    let delay = this.config.PUBLISH_RETRY_INITIAL_MS;
    while (!this.abandon) {
      try {
        await this.producer.connect();
        this.connected = true;
        this.logger.info(
          { event: 'kafka_connected', brokers: this.config.KAFKA_BROKERS },
          'connected to Kafka',
        );
        return;
      } catch (err) {
        this.logger.warn(
          { event: 'kafka_connect_failed', err: (err as Error).message, retry_ms: delay },
          'Kafka unreachable; records are buffered',
        );
        await this.idle(delay);
        delay = Math.min(delay * 2, this.config.PUBLISH_RETRY_MAX_MS);
      }
    }
  }

  /** Waits up to `ms` or until woken (a full batch, or shutdown). */
  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async loop(): Promise<void> {
    await this.connect();
    let delay = this.config.PUBLISH_RETRY_INITIAL_MS;
    while (!this.abandon) {
      if (this.buffer.size === 0) {
        if (this.stopping) break;
        // Nothing to send: sleep until the first record arrives (no timer firing every linger).
        this.emptyWait = true;
        await this.idle(1_000);
        this.emptyWait = false;
        continue;
      }
      if (
        this.buffer.size < this.config.BATCH_MAX_RECORDS &&
        !this.stopping &&
        this.config.BATCH_LINGER_MS > 0
      ) {
        await this.idle(this.config.BATCH_LINGER_MS);
      }
      const batch = this.buffer.take(this.config.BATCH_MAX_RECORDS, this.batchMaxBytes);
      const t0 = this.clock.monotonic();
      this.sendingSince = t0;
      try {
        await this.producer.send({
          topic: this.config.KAFKA_TOPIC,
          acks: -1,
          messages: batch.map((r) => ({ key: r.key, value: r.value })),
        });
        this.metrics?.publishLatency.observe((this.clock.monotonic() - t0) / 1000);
        this.metrics?.published.inc(batch.length);
        if (this.lastSendFailed) {
          this.logger.info(
            { event: 'kafka_recovered', buffered: this.buffer.size },
            'Kafka accepts records again',
          );
        }
        this.lastSendFailed = false;
        delay = this.config.PUBLISH_RETRY_INITIAL_MS;
      } catch (err) {
        this.metrics?.publishFailures.inc();
        const type = kafkaErrorType(err);
        if (type !== undefined && TOO_LARGE.has(type)) {
          this.tooLarge(batch, type);
          continue;
        }
        this.buffer.putBack(batch);
        if (type !== undefined && PRODUCER_FATAL.has(type) && !this.abandon) {
          await this.resetProducer(type);
          continue;
        }
        if (!this.lastSendFailed) {
          this.logger.warn(
            {
              event: 'kafka_publish_failed',
              err: (err as Error).message,
              buffered: this.buffer.size,
            },
            'publishing to Kafka failed; records stay buffered and are retried',
          );
        }
        this.lastSendFailed = true;
        if (!this.abandon) await this.idle(delay);
        delay = Math.min(delay * 2, this.config.PUBLISH_RETRY_MAX_MS);
      } finally {
        this.sendingSince = undefined;
      }
    }
  }

  /**
   * Kafka refused a batch for its size: a batch of several is put back and sent in halves from
   * now on (the topic's limit is below BATCH_MAX_BYTES); a single record can never be sent and
   * is dropped, counted and logged (its size, never its content).
   */
  private tooLarge(batch: PendingRecord[], type: string): void {
    const bytes = bytesOf(batch);
    if (batch.length > 1) {
      this.buffer.putBack(batch);
      this.batchMaxBytes = Math.max(1, Math.floor(bytes / 2));
      this.logger.warn(
        {
          event: 'kafka_batch_too_large',
          error_type: type,
          records: batch.length,
          bytes,
          batch_max_bytes: this.batchMaxBytes,
        },
        'Kafka refused a batch as too large; sending smaller batches (lower BATCH_MAX_BYTES)',
      );
      return;
    }
    this.logger.warn(
      { event: 'record_too_large', error_type: type, bytes, key: batch[0]?.key },
      'Kafka refused a single record as too large; dropped',
    );
    this.dropped(1, 'too_large');
  }

  /** Stops accepting records and flushes what is buffered (up to SHUTDOWN_FLUSH_TIMEOUT_MS). */
  async flushAndStop(): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    this.wake?.();
    const timeout = sleep(this.config.SHUTDOWN_FLUSH_TIMEOUT_MS).then(() => 'timeout' as const);
    const outcome =
      this.loopDone === undefined
        ? 'done'
        : await Promise.race([this.loopDone.then(() => 'done' as const), timeout]);
    const left = this.buffer.size;
    if (outcome === 'timeout' || left > 0) {
      this.abandon = true;
      this.wake?.();
      this.dropped(left, 'shutdown');
      this.logger.warn(
        { event: 'shutdown_flush_incomplete', dropped: left },
        'records not flushed at shutdown',
      );
    } else {
      this.logger.info({ event: 'shutdown_flushed' }, 'buffer flushed to Kafka');
    }
    await this.producer.disconnect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flushAndStop();
  }
}
