import { performance } from 'node:perf_hooks';
import type { extProc } from '@edge/protos';
import { StreamContext, StreamInfo } from './context';
import { errorBody } from './error-body';
import { Headers } from './headers';
import type { Logger } from './logger';
import type { ExtProcMetrics, ProcessorMetrics } from './metrics';
import type { FullProcessingMode } from './mode';
import { Phase, type PhaseKind } from './phase';
import type { AnyProcessor, Composition, ErrorPolicy, HookName } from './processor';

/** `details` of the JSON reply when a hook fails and the policy names none. */
export const DEFAULT_HOOK_FAILURE_DETAILS = 'ProcessorError The request could not be processed';

export type StreamOutcome = 'completed' | 'cancelled' | 'error';

export interface StreamEvent {
  processor: string;
  requestId: string;
  method: string;
  path: string;
}

/** Observability hooks (metrics/logs are built in; these are for your own tracing etc.). */
export interface ExtProcHooks {
  onStreamStart?(ev: StreamEvent): void;
  onStreamEnd?(ev: StreamEvent & { outcome: StreamOutcome; durationMs: number }): void;
  onError?(err: unknown, ev: StreamEvent & { phase: PhaseKind; failedProcessor: string }): void;
}

/** What a stream needs from its server (or from the test harness): built by `createStreamRuntime`. */
export interface StreamRuntime {
  logger: Logger;
  errorPolicy: ErrorPolicy;
  metrics: ExtProcMetrics | undefined;
  hooks: ExtProcHooks | undefined;
  /** Response header listing the processors applied; undefined = off. */
  appliedHeader: string | undefined;
  /** Send the composition's mode as `mode_override` on the first response. */
  enforceMode: boolean;
}

/** The options a `StreamRuntime` is built from (shared by `createExtProcServer` and the harness). */
export interface StreamRuntimeOptions {
  errorPolicy?: ErrorPolicy;
  logger?: Logger;
  metrics?: ExtProcMetrics;
  hooks?: ExtProcHooks;
  appliedHeader?: boolean | string;
  enforceMode?: boolean;
}

/**
 * The one place the per-stream defaults live: fail closed with 500, no applied header, no mode
 * enforcement. `defaultLogger` is the caller's (the server logs JSON, the harness is silent).
 */
export function createStreamRuntime(
  opts: StreamRuntimeOptions,
  defaultLogger: Logger,
): StreamRuntime {
  return {
    logger: opts.logger ?? defaultLogger,
    errorPolicy: opts.errorPolicy ?? { status: 500 },
    metrics: opts.metrics,
    hooks: opts.hooks,
    appliedHeader: appliedHeaderName(opts.appliedHeader),
    enforceMode: opts.enforceMode ?? false,
  };
}

export const DEFAULT_APPLIED_HEADER = 'x-ext-procs-applied';

/** The `appliedHeader` option as a header name: `true` = the default name, a string = itself. */
export function appliedHeaderName(option: boolean | string | undefined): string | undefined {
  if (option === true) return DEFAULT_APPLIED_HEADER;
  return typeof option === 'string' ? option : undefined;
}

/** What one message from Envoy turned into: what the server sends, and whether it then ends. */
export interface StreamStep {
  /** The answer; undefined when none is due (observability mode, an empty message, a stream ended meanwhile). */
  readonly response: extProc.ProcessingResponse | undefined;
  /**
   * True when this handled the last message the declared mode expects (or answered with an
   * immediate response): Envoy will send nothing more, so the server may end the gRPC stream
   * with OK. Also true, with no `response`, for the last message of an observability-mode
   * stream (Envoy waits for no answer; without the server ending it, the stream stays open
   * until Envoy's `deferred_close_timeout`).
   */
  readonly last: boolean;
}

const NOTHING: StreamStep = Object.freeze({ response: undefined, last: false });
/** Observability mode: the last message the mode expects arrived; no answer is due, the stream may end. */
const LAST_UNANSWERED: StreamStep = Object.freeze({ response: undefined, last: true });

const EMPTY_BUF = Buffer.alloc(0);
const EMPTY_HEADERS = new Headers([]);

const HOOK_OF: Record<PhaseKind, HookName> = {
  requestHeaders: 'onRequestHeaders',
  requestBody: 'onRequestBody',
  requestTrailers: 'onRequestTrailers',
  responseHeaders: 'onResponseHeaders',
  responseBody: 'onResponseBody',
  responseTrailers: 'onResponseTrailers',
};

type HookFn = (ctx: StreamContext<object>, phase: Phase) => void | Promise<void>;

/**
 * Drives one ext_proc stream: turns each ProcessingRequest into hook calls and returns the
 * ProcessingResponse (with whether it was the last one). The caller feeds messages strictly in
 * order, one at a time: `process()` again only once the previous step has resolved. A hook may
 * be sync or async (the sync path allocates no promise). `process()` never throws or rejects.
 */
export class ExtProcStream {
  readonly info = new StreamInfo();
  private readonly procs: readonly AnyProcessor[];
  private readonly ctxs: StreamContext<object>[];
  private readonly pm: (ProcessorMetrics | undefined)[];
  private readonly applied: boolean[];
  private readonly phase = new Phase();
  private ended = false;
  private firstResponse = true;
  /** True once any hook failed in this stream. */
  errored = false;

  constructor(
    private readonly comp: Composition,
    private readonly rt: StreamRuntime,
    grpcMetadata?: Readonly<Record<string, string>>,
  ) {
    this.procs = comp.processors;
    if (grpcMetadata !== undefined) this.info.grpcMetadata = grpcMetadata;
    const n = this.procs.length;
    this.ctxs = new Array<StreamContext<object>>(n);
    this.pm = new Array<ProcessorMetrics | undefined>(n);
    this.applied = new Array<boolean>(n).fill(false);
    for (let i = 0; i < n; i++) {
      const p = this.procs[i]!;
      const state = (p.createState?.() ?? {}) as object;
      this.ctxs[i] = new StreamContext<object>(this.info, state, p.name);
      this.pm[i] = rt.metrics?.forProcessor(p.name);
    }
  }

  /** The composition's name (the processor's, for a single one). */
  get name(): string {
    return this.comp.name;
  }

  get mode(): FullProcessingMode {
    return this.comp.mode;
  }

  /** The context (and so the state) of the processor at `index` in the chain. */
  context(index = 0): StreamContext<object> | undefined {
    return this.ctxs[index];
  }

  /** Handles one message from Envoy. Never throws: a driver bug answers per the error policy. */
  process(req: extProc.ProcessingRequest): StreamStep | Promise<StreamStep> {
    if (this.ended) return NOTHING;
    const r = req.request;
    if (r === undefined) return NOTHING;
    const observing = req.observabilityMode;
    let more = true;
    try {
      more = this.dispatch(req, r);
      return this.runHooks(0, more, observing);
    } catch (err) {
      // A bug in the driver itself (not a hook): answer per policy rather than hang Envoy.
      this.rt.logger.error(
        { err, requestId: this.info.requestId, processor: this.comp.name },
        'ext_proc dispatch failed',
      );
      return this.step(this.phase.build(), more, observing);
    }
  }

  private step(res: extProc.ProcessingResponse, more: boolean, observing: boolean): StreamStep {
    if (this.ended) return NOTHING;
    if (observing) return more ? NOTHING : LAST_UNANSWERED;
    return { response: res, last: !more || res.response?.$case === 'immediateResponse' };
  }

  /** Loads the message into the stream's info and phase; returns whether Envoy will send more. */
  private dispatch(
    req: extProc.ProcessingRequest,
    r: NonNullable<extProc.ProcessingRequest['request']>,
  ): boolean {
    const info = this.info;
    mergeAttributes(info, req.attributes);
    const md = req.metadataContext?.filterMetadata;
    if (md !== undefined) {
      for (const k in md) {
        if (info.metadataContext === EMPTY_MD) info.metadataContext = {};
        info.metadataContext[k] = md[k] ?? {};
      }
    }
    const phase = this.phase;
    phase.bufferedBody = false;
    switch (r.$case) {
      case 'requestHeaders': {
        const h = new Headers(r.value.headers?.headers);
        info.requestHeaders = h;
        info.method = h.get(':method') ?? '';
        info.path = h.get(':path') ?? '';
        info.authority = h.get(':authority') ?? '';
        info.scheme = h.get(':scheme') ?? '';
        info.requestId = h.get('x-request-id') ?? '';
        mergeAttributes(info, r.value.attributes);
        phase.reset('requestHeaders', h, r.value.endOfStream, EMPTY_BUF);
        if (this.rt.hooks?.onStreamStart !== undefined)
          this.safeHook(() => this.rt.hooks?.onStreamStart?.(this.event()));
        break;
      }
      case 'responseHeaders': {
        const h = new Headers(r.value.headers?.headers);
        info.responseHeaders = h;
        info.status = Number(h.get(':status') ?? 0);
        mergeAttributes(info, r.value.attributes);
        if (info.requestHeaders === undefined) requestLineFromAttributes(info);
        phase.reset('responseHeaders', h, r.value.endOfStream, EMPTY_BUF);
        break;
      }
      case 'requestBody':
        phase.reset(
          'requestBody',
          info.requestHeaders ?? EMPTY_HEADERS,
          r.value.endOfStream,
          r.value.body,
        );
        phase.bufferedBody = this.comp.mode.requestBody === 'buffered';
        break;
      case 'responseBody':
        phase.reset(
          'responseBody',
          info.responseHeaders ?? EMPTY_HEADERS,
          r.value.endOfStream,
          r.value.body,
        );
        phase.bufferedBody = this.comp.mode.responseBody === 'buffered';
        break;
      case 'requestTrailers': {
        const t = new Headers(r.value.trailers?.headers);
        info.requestTrailers = t;
        phase.reset('requestTrailers', t, true, EMPTY_BUF);
        break;
      }
      case 'responseTrailers': {
        const t = new Headers(r.value.trailers?.headers);
        info.responseTrailers = t;
        phase.reset('responseTrailers', t, true, EMPTY_BUF);
        break;
      }
    }
    return this.expectsMore(r.$case, phase.endOfStream);
  }

  /** Per the declared mode: will Envoy send anything after this message? */
  private expectsMore(kind: PhaseKind, eos: boolean): boolean {
    const m = this.comp.mode;
    const respHeaders = m.responseHeaders === 'send' || this.rt.appliedHeader !== undefined;
    const responseSide = respHeaders || m.responseBody !== 'none' || m.responseTrailers === 'send';
    switch (kind) {
      case 'requestHeaders':
        return (!eos && (m.requestBody !== 'none' || m.requestTrailers === 'send')) || responseSide;
      case 'requestBody':
        return (
          (!eos && (m.requestBody !== 'buffered' || m.requestTrailers === 'send')) || responseSide
        );
      case 'requestTrailers':
        return responseSide;
      case 'responseHeaders':
        return !eos && (m.responseBody !== 'none' || m.responseTrailers === 'send');
      case 'responseBody':
        return !eos && (m.responseBody !== 'buffered' || m.responseTrailers === 'send');
      case 'responseTrailers':
        return false;
    }
  }

  /** Runs the phase's hooks from processor `from` on; `more`/`observing` go into the step. */
  private runHooks(
    from: number,
    more: boolean,
    observing: boolean,
  ): StreamStep | Promise<StreamStep> {
    const procs = this.procs;
    const phase = this.phase;
    const hook = HOOK_OF[phase.kind];
    for (let i = from; i < procs.length; i++) {
      const p = procs[i]!;
      const fn = (p as Record<HookName, HookFn | undefined>)[hook];
      if (fn === undefined) continue;
      const t0 = this.pm[i] !== undefined ? performance.now() : 0;
      let ret: void | Promise<void>;
      try {
        ret = fn.call(p, this.ctxs[i]!, phase);
      } catch (err) {
        this.hookFailed(i, err);
        this.observe(i, t0);
        if (phase.responded) break;
        continue;
      }
      if (ret !== undefined && typeof (ret as { then?: unknown }).then === 'function') {
        return this.awaitHook(ret, i, t0, more, observing);
      }
      this.observe(i, t0);
      this.applied[i] = true;
      if (phase.responded) break;
    }
    return this.step(this.finish(), more, observing);
  }

  private async awaitHook(
    ret: Promise<void>,
    i: number,
    t0: number,
    more: boolean,
    observing: boolean,
  ): Promise<StreamStep> {
    try {
      await ret;
      this.applied[i] = true;
    } catch (err) {
      this.hookFailed(i, err);
    }
    try {
      this.observe(i, t0);
      if (this.ended) return NOTHING;
      if (this.phase.responded) return this.step(this.finish(), more, observing);
      const next = this.runHooks(i + 1, more, observing);
      return next instanceof Promise ? await next : next;
    } catch (err) {
      this.rt.logger.error(
        { err, requestId: this.info.requestId, processor: this.comp.name },
        'ext_proc async dispatch failed',
      );
      return this.step(this.phase.build(), more, observing);
    }
  }

  private observe(i: number, t0: number): void {
    const m = this.pm[i];
    if (m !== undefined) m.phase[this.phase.kind].observe((performance.now() - t0) / 1000);
  }

  private hookFailed(i: number, err: unknown): void {
    const p = this.procs[i]!;
    const phaseKind = this.phase.kind;
    this.errored = true;
    this.pm[i]?.errors[phaseKind].inc();
    const policy = p.errorPolicy ?? this.rt.errorPolicy;
    this.rt.logger.error(
      {
        err,
        requestId: this.info.requestId,
        processor: p.name,
        phase: phaseKind,
        method: this.info.method,
        path: this.info.path,
        outcome: policy === 'continue' ? 'continue' : policy.status,
      },
      'ext_proc hook failed',
    );
    if (this.rt.hooks?.onError !== undefined) {
      const ev = { ...this.event(), phase: phaseKind, failedProcessor: p.name };
      this.safeHook(() => this.rt.hooks?.onError?.(err, ev));
    }
    if (policy !== 'continue') {
      const status = policy.status;
      this.phase.immediateResponse({
        status,
        body: errorBody(
          status,
          policy.details ?? DEFAULT_HOOK_FAILURE_DETAILS,
          this.info.requestId,
        ),
        details: `ext_proc_${p.name}_error`,
      });
    }
  }

  private finish(): extProc.ProcessingResponse {
    const phase = this.phase;
    const applied = this.rt.appliedHeader;
    if (applied !== undefined) {
      if (phase.responded) {
        const names = this.appliedNames();
        if (names !== '') phase.addImmediateHeader(applied, names);
      } else if (phase.kind === 'responseHeaders') {
        const names = this.appliedNames();
        if (names !== '') phase.appendHeader(applied, names);
      }
    }
    if (this.firstResponse) {
      this.firstResponse = false;
      if (this.rt.enforceMode && !phase.responded) {
        const m = this.comp.mode;
        phase.overrideMode(applied !== undefined ? { ...m, responseHeaders: 'send' } : m);
      }
    }
    const res = phase.build();
    if (res.response?.$case === 'immediateResponse' && this.rt.metrics !== undefined) {
      this.rt.metrics.immediateResponses
        .labels(this.comp.name, String(res.response.value.status?.code ?? 0))
        .inc();
    }
    return res;
  }

  private appliedNames(): string {
    let s = '';
    for (let i = 0; i < this.procs.length; i++) {
      if (this.applied[i]) s = s === '' ? this.procs[i]!.name : `${s},${this.procs[i]!.name}`;
    }
    return s;
  }

  private event(): StreamEvent {
    return {
      processor: this.comp.name,
      requestId: this.info.requestId,
      method: this.info.method,
      path: this.info.path,
    };
  }

  private safeHook(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.rt.logger.warn({ err }, 'ext_proc observability hook threw');
    }
  }

  /** Ends the stream once (completed, reset by Envoy, or failed): runs onStreamEnd everywhere. */
  end(outcome: StreamOutcome): void {
    if (this.ended) return;
    this.ended = true;
    for (let i = 0; i < this.procs.length; i++) {
      const p = this.procs[i]!;
      if (p.onStreamEnd !== undefined) {
        const ctx = this.ctxs[i]!;
        this.safeHook(() => p.onStreamEnd?.(ctx));
      }
    }
    if (this.rt.hooks?.onStreamEnd !== undefined) {
      const ev = { ...this.event(), outcome, durationMs: Date.now() - this.info.startTime };
      this.safeHook(() => this.rt.hooks?.onStreamEnd?.(ev));
    }
  }

  get isEnded(): boolean {
    return this.ended;
  }
}

const EMPTY_MD = new StreamInfo().metadataContext;

/**
 * A stream that skipped the request headers (a response-only processor, such as an audit logger
 * that must add nothing to the request path) takes its request line from the response
 * attributes, when Envoy was asked for them (`response_attributes: [request.method,
 * request.path, request.host, request.scheme, request.id]`). CEL reads them at response time.
 */
function requestLineFromAttributes(info: StreamInfo): void {
  const a = info.attributes;
  info.method = attrString(a['request.method']);
  info.path = attrString(a['request.path']);
  info.authority = attrString(a['request.host']);
  info.scheme = attrString(a['request.scheme']);
  info.requestId = attrString(a['request.id']);
}

function attrString(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function mergeAttributes(
  info: StreamInfo,
  attrs: Record<string, Record<string, unknown> | undefined>,
): void {
  for (const ns in attrs) {
    const s = attrs[ns];
    if (s === undefined) continue;
    if (Object.isFrozen(info.attributes)) info.attributes = {};
    Object.assign(info.attributes, s);
  }
}
