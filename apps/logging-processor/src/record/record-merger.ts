import { Inject, Injectable } from '@nestjs/common';
import { type accessLogData } from '@edge/protos';
import { LRUCache } from 'lru-cache';
import { Clock } from '../common/clock';
import {
  LOGGING_PROCESSOR_CONFIG,
  type LoggingProcessorConfig,
} from '../config/logging-processor.config';
import { LOGGER, type Logger } from '../logging/logger';
import { RECORD_SINK } from '../access-log/record-sink';
import { type RecordSink } from '../publisher/kafka-publisher.service';
import { factsFromAccessLog, mergeCollected } from './access-log-entry';
import {
  AccessRecordBuilder,
  type CollectedRequest,
  encodeRecord,
  HeaderSelection,
} from './access-record.builder';
import { processorsThatRan } from './processors';
import { Redactor } from './redaction';

/** What the merger counts (wired to Prometheus by the module). */
export interface MergeCounters {
  /** Records handed to the publisher, by what they were built from. */
  recorded(source: 'ext_proc' | 'access_log' | 'merged'): void;
  /** A half that came after its request's record was published (ignored). */
  late(source: 'ext_proc' | 'access_log'): void;
}

export const MERGE_COUNTERS = Symbol('MERGE_COUNTERS');

interface Pending {
  /** The ext_proc half (a record without a response), or the access-log half. */
  collected: CollectedRequest;
  source: 'ext_proc' | 'access_log';
  since: number;
}

/**
 * Makes ONE record per request from its two possible halves, keyed by x-request-id:
 *
 * - the ext_proc record (always, unless the filter never saw the request). When the filter saw
 *   the response headers it is complete and published at once;
 * - Envoy's gRPC access-log entry, sent only for local replies (authn's 401/403, idempotency's
 *   replays, Envoy's 404/5xx: the responses ext_proc is never shown).
 *
 * A half that may have a partner waits up to MERGE_WAIT_MS, then is published alone, so no
 * request is ever left without a record; a half arriving after its request's record went out
 * is counted and ignored, so no request is published twice.
 */
@Injectable()
export class RecordMerger {
  private readonly builder: AccessRecordBuilder;
  private readonly known: ReadonlySet<string>;
  private readonly pending = new Map<string, Pending>();
  private readonly done: LRUCache<string, true>;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    @Inject(LOGGING_PROCESSOR_CONFIG) private readonly config: LoggingProcessorConfig,
    @Inject(RECORD_SINK) private readonly sink: RecordSink,
    @Inject(MERGE_COUNTERS) private readonly counters: MergeCounters,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.builder = new AccessRecordBuilder(
      new Redactor(config.REDACT_HEADERS, config.REDACT_FIELDS),
      new HeaderSelection(config.LOG_REQUEST_HEADERS),
      new HeaderSelection(config.LOG_RESPONSE_HEADERS),
    );
    this.known = new Set(config.KNOWN_PROCESSORS);
    // Ids published recently: a late half of one of them is ignored, not published again.
    this.done = new LRUCache<string, true>({
      max: Math.max(10_000, config.MERGE_MAX_PENDING * 4),
      ttl: Math.max(10_000, config.MERGE_WAIT_MS * 10),
      ttlResolution: 1_000,
    });
    const every = Math.min(250, Math.max(10, Math.floor(config.MERGE_WAIT_MS / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  /** Halves waiting for their partner (metrics). */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * The ext_proc half. `sawResponse`: the filter saw the response headers, so no access-log
   * entry is expected (the access log sends only local replies) and it goes out at once.
   */
  fromExtProc(collected: CollectedRequest, sawResponse: boolean): void {
    const id = collected.requestId;
    if (this.done.has(id)) {
      this.counters.late('ext_proc');
      return;
    }
    const other = this.pending.get(id);
    if (other !== undefined && other.source === 'access_log') {
      this.pending.delete(id);
      this.emit(mergeCollected(collected, other.collected), 'merged');
      return;
    }
    if (sawResponse || id === '') this.emit(collected, 'ext_proc');
    else this.hold(id, collected, 'ext_proc');
  }

  /** One access-log entry (a local reply, or a request the filter chain never ran for). */
  fromAccessLog(entry: accessLogData.HTTPAccessLogEntry): void {
    const facts = factsFromAccessLog(entry);
    if (facts === undefined) return;
    const c = facts.collected;
    c.processors = processorsThatRan(
      this.known,
      facts.metadata,
      c.responseCodeDetails,
      c.identity !== undefined,
      undefined,
    );
    const id = c.requestId;
    if (this.done.has(id)) {
      this.counters.late('access_log');
      return;
    }
    if (facts.unpaired) {
      this.emit(c, 'access_log');
      return;
    }
    const other = this.pending.get(id);
    if (other !== undefined && other.source === 'ext_proc') {
      this.pending.delete(id);
      this.emit(mergeCollected(other.collected, c), 'merged');
      return;
    }
    this.hold(id, c, 'access_log');
  }

  /** Publishes every waiting half now and stops waiting (shutdown). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const p of this.pending.values()) this.emit(p.collected, p.source);
    this.pending.clear();
  }

  private hold(id: string, collected: CollectedRequest, source: Pending['source']): void {
    if (
      this.closed ||
      this.config.MERGE_WAIT_MS === 0 ||
      this.pending.size >= this.config.MERGE_MAX_PENDING ||
      this.pending.has(id) // the same id twice from one side: no pairing possible, keep both
    ) {
      this.emit(collected, source);
      return;
    }
    this.pending.set(id, { collected, source, since: this.clock.monotonic() });
  }

  /** Publishes halves that waited long enough (Map order = arrival order). */
  private sweep(): void {
    const cutoff = this.clock.monotonic() - this.config.MERGE_WAIT_MS;
    for (const [id, p] of this.pending) {
      if (p.since > cutoff) break;
      this.pending.delete(id);
      this.emit(p.collected, p.source);
    }
  }

  private emit(c: CollectedRequest, source: 'ext_proc' | 'access_log' | 'merged'): void {
    if (c.requestId !== '') this.done.set(c.requestId, true);
    try {
      const record = this.builder.build(c);
      this.counters.recorded(source);
      this.sink.publish({ key: record.tenant, value: encodeRecord(record) });
    } catch (err) {
      this.logger.error(
        { event: 'record_failed', request_id: c.requestId, err: (err as Error).message },
        'could not build an audit record',
      );
    }
  }
}
