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
import { BodyCapture } from '../record/access-record.builder';
import { processorsThatRan } from '../record/processors';
import { RecordMerger } from '../record/record-merger';

export interface AccessLogState {
  startMs: number;
  startMono: number;
  requestBody: BodyCapture | undefined;
  responseBody: BodyCapture | undefined;
  emitted: boolean;
}

/**
 * The logging ext_proc processor. It never changes a request and never answers one: it
 * collects the request line and headers, then the response headers (and, when configured,
 * bodies up to LOG_BODY_MAX_BYTES), and hands what it collected to the RecordMerger, which
 * publishes one redacted, encoded record per request. It sits first in the front proxy's filter
 * chain and reads the identity from the `edge.authn` dynamic metadata forwarded with the
 * response headers. Envoy never shows it the response of a local reply (authn's 401/403,
 * Envoy's 404/5xx): that stream ends without a response phase, and the merger completes its
 * record from Envoy's access-log entry (apps/logging-processor README).
 */
@Injectable()
export class AccessLogProcessor extends BaseProcessor<AccessLogState> {
  readonly name = 'logging';
  override readonly mode: ProcessingModeSpec;
  /** A bug here must never fail a request: let it through. */
  readonly errorPolicy = 'continue' as const;

  private readonly bodyMax: number;
  private readonly known: ReadonlySet<string>;

  constructor(
    @Inject(LOGGING_PROCESSOR_CONFIG) config: LoggingProcessorConfig,
    @Inject(RecordMerger) private readonly merger: RecordMerger,
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
      const sawResponse = ctx.responseHeaders !== undefined;
      this.merger.fromExtProc(
        {
          requestId: ctx.requestId,
          startMs: s.startMs,
          endMs: this.clock.now(),
          durationUs: (this.clock.monotonic() - s.startMono) * 1000,
          method: ctx.method,
          scheme: ctx.scheme,
          authority: ctx.authority,
          rawPath: ctx.path,
          clientAddress: str(ctx.attribute('source.address')),
          status: sawResponse ? ctx.status : 0,
          requestHeaders: ctx.requestHeaders,
          responseHeaders: ctx.responseHeaders,
          identity,
          route: str(ctx.attribute('xds.route_name')),
          responseCodeDetails: details,
          processors: processorsThatRan(
            this.known,
            ctx.metadataContext,
            details,
            identity !== undefined,
            ctx.responseHeaders?.get('x-ext-procs-applied'),
          ),
          requestBody: s.requestBody,
          responseBody: s.responseBody,
        },
        sawResponse,
      );
    } catch (err) {
      this.logger.error(
        { event: 'record_failed', request_id: ctx.requestId, err: (err as Error).message },
        'could not collect an audit record',
      );
    }
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}
