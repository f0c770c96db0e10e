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

/** What a stream needs from its server (or from the test harness). */
export interface StreamRuntime {
  logger: Logger;
  errorPolicy: ErrorPolicy;
  metrics: ExtProcMetrics | undefined;
  hooks: ExtProcHooks | undefined;
  /** Response header listing the processors applied; undefined = off. */
  appliedHeader: string | undefined;
  /** Send the composition's mode as `mode_override` on the first response. */
  enforceMode: boolean;
  /**
   * End the gRPC stream (OK) right after answering the last phase the declared mode expects,
   * instead of waiting for Envoy to reset it. Default true in the server.
   */
  closeAfterLastPhase?: boolean;
}

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
 * Drives one ext_proc stream: turns each ProcessingRequest into hook calls and one
 * ProcessingResponse. Messages are handled strictly in order; a hook may be sync or async
 * (the sync path allocates no promise).
 */
export class ExtProcStream {
  readonly info = new StreamInfo();
  private readonly procs: readonly AnyProcessor[];
  private readonly ctxs: StreamContext<object>[];
  private readonly pm: (ProcessorMetrics | undefined)[];
  private readonly applied: boolean[];
  private readonly phase = new Phase();
  private queue: extProc.ProcessingRequest[] | undefined;
  private busy = false;
  private ended = false;
  private firstResponse = true;
  private observing = false;
  private current: HookName = 'onRequestHeaders';
  /** Whether Envoy will send more messages after the one being handled (per the declared mode). */
  private more = true;
  /** Called once when the last expected message was answered (the server then ends the stream). */
  onLastPhase: (() => void) | undefined;
  /** True once any hook failed in this stream. */
  errored = false;

  constructor(
    private readonly comp: Composition,
    private readonly rt: StreamRuntime,
    private readonly send: (res: extProc.ProcessingResponse) => void,
    grpcMetadata?: Record<string, string>,
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

  get mode(): FullProcessingMode {
    return this.comp.mode;
  }

  /** Feed one message from Envoy. Responses go out through `send`, in order. */
  push(req: extProc.ProcessingRequest): void {
    if (this.ended) return;
    if (this.busy) {
      (this.queue ??= []).push(req);
      return;
    }
    this.run(req);
  }

  private run(req: extProc.ProcessingRequest): void {
    this.busy = true;
    let out: extProc.ProcessingResponse | Promise<extProc.ProcessingResponse> | undefined;
    try {
      out = this.dispatch(req);
    } catch (err) {
      // A bug in the driver itself (not a hook): answer per policy rather than hang Envoy.
      this.rt.logger.error(
        { err, requestId: this.info.requestId, processor: this.comp.name },
        'ext_proc dispatch failed',
      );
      out = this.phase.build();
    }
    if (out === undefined) return this.done(undefined);
    if (out instanceof Promise) {
      out.then(this.onAsyncDone, this.onAsyncFail);
      return;
    }
    this.done(out);
  }

  private readonly onAsyncDone = (res: extProc.ProcessingResponse): void => this.done(res);
  private readonly onAsyncFail = (err: unknown): void => {
    this.rt.logger.error(
      { err, requestId: this.info.requestId, processor: this.comp.name },
      'ext_proc async dispatch failed',
    );
    this.done(this.phase.build());
  };

  private done(res: extProc.ProcessingResponse | undefined): void {
    if (res !== undefined && !this.ended && !this.observing) {
      this.send(res);
      if (
        (!this.more || res.response?.$case === 'immediateResponse') &&
        this.onLastPhase !== undefined
      ) {
        const cb = this.onLastPhase;
        this.onLastPhase = undefined;
        cb();
        return;
      }
    }
    this.busy = false;
    const q = this.queue;
    if (q !== undefined && q.length > 0 && !this.ended) this.run(q.shift()!);
  }

  private dispatch(
    req: extProc.ProcessingRequest,
  ): extProc.ProcessingResponse | Promise<extProc.ProcessingResponse> | undefined {
    const r = req.request;
    if (r === undefined) return undefined;
    this.observing = req.observabilityMode;
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
    this.current = HOOK_OF[r.$case];
    this.more = this.expectsMore(r.$case, phase.endOfStream);
    return this.runHooks(0);
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

  private runHooks(from: number): extProc.ProcessingResponse | Promise<extProc.ProcessingResponse> {
    const procs = this.procs;
    const phase = this.phase;
    const hook = this.current;
    for (let i = from; i < procs.length; i++) {
      const p = procs[i]!;
      const fn = (p as Record<HookName, HookFn | undefined>)[hook];
      if (fn === undefined) continue;
      const t0 = performance.now();
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
        return this.awaitHook(ret, i, t0);
      }
      this.observe(i, t0);
      this.applied[i] = true;
      if (phase.responded) break;
    }
    return this.finish();
  }

  private async awaitHook(
    ret: Promise<void>,
    i: number,
    t0: number,
  ): Promise<extProc.ProcessingResponse> {
    try {
      await ret;
      this.applied[i] = true;
    } catch (err) {
      this.hookFailed(i, err);
    }
    this.observe(i, t0);
    if (this.ended) return this.phase.build();
    if (this.phase.responded) return this.finish();
    return this.runHooks(i + 1);
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
    this.queue = undefined;
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
