import { Inject, Injectable } from '@nestjs/common';
import {
  BaseProcessor,
  type BodyPhase,
  Headers,
  type HeadersPhase,
  type ProcessingModeSpec,
  type StreamContext,
} from '@edge/processor-core';
import { Clock } from '../common/clock';
import {
  extProcSeesRequests,
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
    // The smallest mode that gives the record. Without bodies: the response headers only, with
    // the request line and the logged request headers as response attributes (CEL, evaluated
    // by Envoy at response time; envoy/front-proxy.yaml): nothing on the request path and one
    // message per request. Bodies need the request side too, STREAMED (the only body mode
    // observability mode supports).
    this.mode = extProcSeesRequests(config)
      ? {
          requestHeaders: 'send',
          responseHeaders: 'send',
          requestBody: 'streamed',
          responseBody: 'streamed',
        }
      : { requestHeaders: 'skip', responseHeaders: 'send' };
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
      // Response-only (no request headers message): Envoy's request start (`request.time`),
      // and the request headers it was asked for as `request.headers['name']` attributes.
      const responseOnly = ctx.requestHeaders === undefined;
      const envoyStart = responseOnly ? envoyTimeMs(ctx.attribute('request.time')) : undefined;
      const endMs = envoyStart !== undefined ? this.clock.preciseNow() : this.clock.now();
      this.merger.fromExtProc(
        {
          requestId: ctx.requestId,
          startMs: envoyStart ?? s.startMs,
          endMs,
          durationUs:
            envoyStart !== undefined
              ? (endMs - envoyStart) * 1000
              : (this.clock.monotonic() - s.startMono) * 1000,
          method: ctx.method,
          scheme: ctx.scheme,
          authority: ctx.authority,
          rawPath: ctx.path,
          clientAddress: str(ctx.attribute('source.address')),
          status: sawResponse ? ctx.status : 0,
          requestHeaders: ctx.requestHeaders ?? requestHeadersFromAttributes(ctx.attributes),
          requestSize: responseOnly ? size(ctx.attribute('request.size')) : undefined,
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

/** `request.headers['user-agent']` → `user-agent` (undefined for other attribute names). */
const HEADER_ATTRIBUTE = /^request\.headers\[(?:'([^']+)'|"([^"]+)")\]$/;
const headerNames = new Map<string, string | null>();

function headerAttributeName(attribute: string): string | undefined {
  let name = headerNames.get(attribute);
  if (name === undefined) {
    const m = HEADER_ATTRIBUTE.exec(attribute);
    name = m === null ? null : (m[1] ?? m[2] ?? '').toLowerCase();
    if (headerNames.size < 1_000) headerNames.set(attribute, name);
  }
  return name ?? undefined;
}

/** The request headers Envoy sent as `request.headers['name']` response attributes. */
export function requestHeadersFromAttributes(
  attributes: Readonly<Record<string, unknown>>,
): Headers {
  const record: Record<string, string> = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (typeof value !== 'string') continue; // absent headers are not sent at all
    const name = headerAttributeName(key);
    if (name !== undefined && name !== '') record[name] = value;
  }
  return Headers.fromRecord(record);
}

/**
 * Envoy's `request.time` attribute (`2026-12-01T14:39:38.848262+00:00`) in epoch ms, keeping
 * the microseconds Date.parse drops; undefined when absent or not a timestamp.
 */
export function envoyTimeMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  const frac = /\.(\d+)/.exec(v)?.[1];
  return frac === undefined || frac.length <= 3 ? ms : ms + Number(`0.${frac.slice(3, 9)}`);
}

function size(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}
