import { Inject, Injectable } from '@nestjs/common';
import {
  BaseProcessor,
  type BodyPhase,
  type HeadersPhase,
  type ProcessingModeSpec,
  type StreamContext,
} from '@edge/processor-core';
import { Clock } from '../common/clock';
import {
  LOGGING_PROCESSOR_CONFIG,
  type LoggingProcessorConfig,
} from '../config/logging-processor.config';
import { readAuthnIdentity } from '../identity/authn-identity';
import { LOGGER, type Logger } from '../logging/logger';
import {
  AccessRecordBuilder,
  BodyCapture,
  encodeRecord,
  HeaderSelection,
} from '../record/access-record.builder';
import { Redactor } from '../record/redaction';
import { RECORD_SINK } from './record-sink';
import { type RecordSink } from '../publisher/kafka-publisher.service';

export interface AccessLogState {
  startMs: number;
  startMono: number;
  requestBody: BodyCapture | undefined;
  responseBody: BodyCapture | undefined;
  emitted: boolean;
}

/** What `recorded` counts (wired to the Prometheus counter by the module). */
export interface RecordCounter {
  inc(): void;
}

export const RECORD_COUNTER = Symbol('RECORD_COUNTER');

/**
 * The logging ext_proc processor. It never changes a request and never answers one: it
 * collects the request line and headers, then the response headers (and, when configured,
 * bodies up to LOG_BODY_MAX_BYTES), and hands one redacted, encoded record per request to the
 * publisher. It sits first in the front proxy's filter chain so it also sees the local replies
 * of later filters (authn's 401/403) and of Envoy itself (no route, upstream down), and reads
 * the identity from the `edge.authn` dynamic metadata forwarded with the response headers.
 */
@Injectable()
export class AccessLogProcessor extends BaseProcessor<AccessLogState> {
  readonly name = 'logging';
  override readonly mode: ProcessingModeSpec;
  /** A bug here must never fail a request: let it through. */
  readonly errorPolicy = 'continue' as const;

  private readonly builder: AccessRecordBuilder;
  private readonly bodyMax: number;
  private readonly known: ReadonlySet<string>;

  constructor(
    @Inject(LOGGING_PROCESSOR_CONFIG) config: LoggingProcessorConfig,
    @Inject(RECORD_SINK) private readonly sink: RecordSink,
    @Inject(RECORD_COUNTER) private readonly recorded: RecordCounter,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
    this.bodyMax = config.LOG_BODY_MAX_BYTES;
    const bodies = this.bodyMax > 0;
    // The smallest mode that gives the record: request and response headers; bodies only
    // when they are logged (STREAMED: observability mode supports nothing else).
    this.mode = {
      requestHeaders: 'send',
      responseHeaders: 'send',
      requestBody: bodies ? 'streamed' : 'none',
      responseBody: bodies ? 'streamed' : 'none',
    };
    this.builder = new AccessRecordBuilder(
      new Redactor(config.REDACT_HEADERS, config.REDACT_FIELDS),
      new HeaderSelection(config.LOG_REQUEST_HEADERS),
      new HeaderSelection(config.LOG_RESPONSE_HEADERS),
    );
    this.known = new Set(config.KNOWN_PROCESSORS);
  }

  createState(): AccessLogState {
    return {
      startMs: this.clock.now(),
      startMono: this.clock.monotonic(),
      requestBody: undefined,
      responseBody: undefined,
      emitted: false,
    };
  }

  onRequestHeaders(ctx: StreamContext<AccessLogState>, _phase: HeadersPhase): void {
    if (this.bodyMax > 0) ctx.state.requestBody = new BodyCapture(this.bodyMax);
  }

  onRequestBody(ctx: StreamContext<AccessLogState>, phase: BodyPhase): void {
    ctx.state.requestBody?.add(phase.body);
  }

  onResponseHeaders(ctx: StreamContext<AccessLogState>, phase: HeadersPhase): void {
    if (this.bodyMax > 0 && !phase.endOfStream) {
      ctx.state.responseBody = new BodyCapture(this.bodyMax);
      return; // the record goes out at the end of the response body
    }
    this.emit(ctx);
  }

  onResponseBody(ctx: StreamContext<AccessLogState>, phase: BodyPhase): void {
    ctx.state.responseBody?.add(phase.body);
    if (phase.endOfStream) this.emit(ctx);
  }

  /** A stream that ended early (client gone, trailers, reset) still leaves its record. */
  onStreamEnd(ctx: StreamContext<AccessLogState>): void {
    if (!ctx.state.emitted && ctx.requestHeaders !== undefined) this.emit(ctx);
  }

  private emit(ctx: StreamContext<AccessLogState>): void {
    const s = ctx.state;
    if (s.emitted) return;
    s.emitted = true;
    try {
      const identity = readAuthnIdentity(ctx.metadataContext);
      const details = str(ctx.attribute('response.code_details'));
      const record = this.builder.build({
        requestId: ctx.requestId,
        startMs: s.startMs,
        endMs: this.clock.now(),
        durationUs: (this.clock.monotonic() - s.startMono) * 1000,
        method: ctx.method,
        scheme: ctx.scheme,
        authority: ctx.authority,
        rawPath: ctx.path,
        clientAddress: str(ctx.attribute('source.address')),
        status: ctx.status,
        requestHeaders: ctx.requestHeaders,
        responseHeaders: ctx.responseHeaders,
        identity,
        route: str(ctx.attribute('xds.route_name')),
        responseCodeDetails: details,
        processors: this.processorsThatRan(ctx, details, identity !== undefined),
        requestBody: s.requestBody,
        responseBody: s.responseBody,
      });
      this.recorded.inc();
      this.sink.publish({ key: record.tenant, value: encodeRecord(record) });
    } catch (err) {
      this.logger.error(
        { event: 'record_failed', request_id: ctx.requestId, err: (err as Error).message },
        'could not build an audit record',
      );
    }
  }

  /**
   * `logging` itself, then processors recognised from their dynamic metadata (`edge.<name>`),
   * from Envoy's response code details (`<name>_<Code>`, set on their immediate responses) and
   * from the `x-ext-procs-applied` response header processor-core can add.
   */
  private processorsThatRan(
    ctx: StreamContext<AccessLogState>,
    details: string,
    authenticated: boolean,
  ): string[] {
    const out = [this.name];
    const add = (n: string) => {
      if (n !== '' && !out.includes(n)) out.push(n);
    };
    if (authenticated) add('authn');
    for (const ns of Object.keys(ctx.metadataContext)) {
      if (ns.startsWith('edge.') && this.known.has(ns.slice(5))) add(ns.slice(5));
    }
    const m = /^([a-z][a-z0-9-]*)_/.exec(details);
    if (m !== null && this.known.has(m[1]!)) add(m[1]!);
    const applied = ctx.responseHeaders?.get('x-ext-procs-applied');
    if (applied !== undefined) for (const n of applied.split(',')) add(n.trim());
    return out;
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}
