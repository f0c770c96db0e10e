import { envoyCore, extProc, type processingMode } from '@edge/protos';
import type { Headers } from './headers';
import { toProtoMode, type ProcessingModeSpec } from './mode';

const { HeaderValueOption_HeaderAppendAction: AppendAction } = envoyCore;
const { CommonResponse_ResponseStatus: ResponseStatus } = extProc;

export type PhaseKind =
  | 'requestHeaders'
  | 'responseHeaders'
  | 'requestBody'
  | 'responseBody'
  | 'requestTrailers'
  | 'responseTrailers';

export interface ImmediateResponseOptions {
  status: number;
  /** A string/Buffer is sent as is; anything else is JSON-encoded with `content-type: application/json`. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Goes to Envoy's `%RESPONSE_CODE_DETAILS%` (access logs). */
  details?: string;
}

/** Helpers every phase has: they all end up in the ProcessingResponse for this message. */
export interface PhaseCommon {
  readonly kind: PhaseKind;
  /** Stop processing and answer the client directly (later processors in a chain are skipped). */
  immediateResponse(opts: ImmediateResponseOptions): void;
  /** Emit dynamic metadata under `namespace` (Envoy must list it in `metadata_options.receiving_namespaces`). */
  setDynamicMetadata(namespace: string, value: Record<string, unknown>): void;
  /** Change the processing mode for the rest of the stream (Envoy needs `allow_mode_override: true`). */
  overrideMode(mode: ProcessingModeSpec): void;
  /** Ask Envoy to recompute the route (after changing headers routing depends on). */
  clearRouteCache(): void;
  /** True once a processor called `immediateResponse`. */
  readonly responded: boolean;
}

export interface HeaderMutations {
  /** Replace every value of `name` (OVERWRITE_IF_EXISTS_OR_ADD). */
  setHeader(name: string, value: string): void;
  /** Add one more value of `name` (APPEND_IF_EXISTS_OR_ADD). */
  appendHeader(name: string, value: string): void;
  /** Add `name` only if it is absent (ADD_IF_ABSENT). */
  addHeaderIfAbsent(name: string, value: string): void;
  /** Remove every value of `name` (remove_headers). */
  removeHeader(name: string): void;
}

export interface HeadersPhase extends PhaseCommon, HeaderMutations {
  readonly kind: 'requestHeaders' | 'responseHeaders';
  readonly headers: Headers;
  readonly endOfStream: boolean;
  /**
   * Replace the body from the headers phase (CONTINUE_AND_REPLACE); sets content-length.
   * Objects are JSON-encoded and content-type set to application/json.
   */
  replaceBody(body: unknown): void;
}

export interface BodyPhase extends PhaseCommon, HeaderMutations {
  readonly kind: 'requestBody' | 'responseBody';
  /** The body chunk (the whole body in BUFFERED mode). */
  readonly body: Buffer;
  readonly endOfStream: boolean;
  /** Headers of the same direction, as seen at the headers phase (with earlier mutations). */
  readonly headers: Headers;
  /**
   * Replace the body. In BUFFERED mode the content-length header is set to the new length
   * (Envoy leaves that to the processor). Objects are JSON-encoded.
   */
  replaceBody(body: unknown): void;
  /** Remove the body (content-length set to 0 in BUFFERED mode). */
  clearBody(): void;
}

export interface TrailersPhase extends PhaseCommon, HeaderMutations {
  readonly kind: 'requestTrailers' | 'responseTrailers';
  readonly trailers: Headers;
}

const EMPTY_BUF = Buffer.alloc(0);

function untouched(kind: PhaseKind): extProc.ProcessingResponse {
  const value =
    kind === 'requestTrailers' || kind === 'responseTrailers'
      ? { headerMutation: undefined }
      : { response: undefined };
  return Object.freeze({
    response: Object.freeze({ $case: kind, value: Object.freeze(value) }),
    dynamicMetadata: undefined,
    modeOverride: undefined,
    overrideMessageTimeout: undefined,
  }) as extProc.ProcessingResponse;
}

/**
 * The answer to a phase nobody changed (an empty CONTINUE): one frozen object per phase kind,
 * so a transport can send pre-encoded bytes for it.
 */
export const UNTOUCHED_RESPONSES: Readonly<Record<PhaseKind, extProc.ProcessingResponse>> = {
  requestHeaders: untouched('requestHeaders'),
  responseHeaders: untouched('responseHeaders'),
  requestBody: untouched('requestBody'),
  responseBody: untouched('responseBody'),
  requestTrailers: untouched('requestTrailers'),
  responseTrailers: untouched('responseTrailers'),
};

function toBody(body: unknown): { buf: Buffer; json: boolean } {
  if (Buffer.isBuffer(body)) return { buf: body, json: false };
  if (typeof body === 'string') return { buf: Buffer.from(body, 'utf8'), json: false };
  if (body instanceof Uint8Array) return { buf: Buffer.from(body), json: false };
  if (body === undefined) return { buf: EMPTY_BUF, json: false };
  return { buf: Buffer.from(JSON.stringify(body), 'utf8'), json: true };
}

/**
 * Envoy's ext_proc (through 1.36 at least) honours only the deprecated `append` BoolValue
 * (unset = overwrite) and ignores `append_action`; so both are sent, `append` decides. ADD_IF_ABSENT
 * has no wire equivalent there: the helper checks the header view itself and sends a set.
 */
function hvo(
  key: string,
  value: string,
  action: envoyCore.HeaderValueOption_HeaderAppendAction,
): envoyCore.HeaderValueOption {
  return {
    header: { key, value: '', rawValue: Buffer.from(value, 'utf8') },
    append: action === AppendAction.APPEND_IF_EXISTS_OR_ADD,
    appendAction: action,
    keepEmptyValue: value === '',
  };
}

/**
 * One object per stream, reset for each message: collects what the processors asked for and
 * builds the ProcessingResponse with only what changed. Implements every phase interface so
 * the hot path stays monomorphic.
 */
export class Phase implements PhaseCommon, HeaderMutations {
  kind: PhaseKind = 'requestHeaders';
  headers!: Headers;
  trailers!: Headers;
  body: Buffer = EMPTY_BUF;
  endOfStream = false;

  private setHeaders: envoyCore.HeaderValueOption[] | undefined;
  private removeHeaders: string[] | undefined;
  private newBody: Buffer | undefined;
  private bodyCleared = false;
  private immediate: extProc.ImmediateResponse | undefined;
  private dynamicMetadata: Record<string, unknown> | undefined;
  private modeOverride: processingMode.ProcessingMode | undefined;
  private routeCache = false;
  /** Set by the driver: whether this phase's body was buffered (content-length fix-up applies). */
  bufferedBody = false;

  reset(kind: PhaseKind, view: Headers, endOfStream: boolean, body: Buffer): void {
    this.kind = kind;
    this.headers = view;
    this.trailers = view;
    this.endOfStream = endOfStream;
    this.body = body;
    this.setHeaders = undefined;
    this.removeHeaders = undefined;
    this.newBody = undefined;
    this.bodyCleared = false;
    this.immediate = undefined;
    this.dynamicMetadata = undefined;
    this.modeOverride = undefined;
    this.routeCache = false;
  }

  get responded(): boolean {
    return this.immediate !== undefined;
  }

  private mutateView(): Headers {
    return this.kind === 'requestTrailers' || this.kind === 'responseTrailers'
      ? this.trailers
      : this.headers;
  }

  private dropPending(key: string): void {
    const s = this.setHeaders;
    if (s === undefined) return;
    for (let i = s.length - 1; i >= 0; i--) if (s[i]!.header!.key === key) s.splice(i, 1);
  }

  private unRemove(key: string): void {
    const r = this.removeHeaders;
    if (r === undefined) return;
    const i = r.indexOf(key);
    if (i >= 0) r.splice(i, 1);
  }

  setHeader(name: string, value: string): void {
    const key = name.toLowerCase();
    this.dropPending(key);
    this.unRemove(key);
    (this.setHeaders ??= []).push(hvo(key, value, AppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
    this.mutateView().setInternal(key, value);
  }

  appendHeader(name: string, value: string): void {
    const key = name.toLowerCase();
    (this.setHeaders ??= []).push(hvo(key, value, AppendAction.APPEND_IF_EXISTS_OR_ADD));
    this.mutateView().appendInternal(key, value);
  }

  addHeaderIfAbsent(name: string, value: string): void {
    const key = name.toLowerCase();
    const view = this.mutateView();
    if (view.has(key)) return; // nothing would change: send nothing
    (this.setHeaders ??= []).push(hvo(key, value, AppendAction.ADD_IF_ABSENT));
    view.appendInternal(key, value);
  }

  removeHeader(name: string): void {
    const key = name.toLowerCase();
    this.dropPending(key);
    const r = (this.removeHeaders ??= []);
    if (!r.includes(key)) r.push(key);
    this.mutateView().removeInternal(key);
  }

  replaceBody(body: unknown): void {
    const { buf, json } = toBody(body);
    this.newBody = buf;
    this.bodyCleared = false;
    this.body = buf;
    if (json) this.setHeader('content-type', 'application/json');
    if (this.kind.endsWith('Headers') || this.bufferedBody)
      this.setHeader('content-length', String(buf.length));
    else this.removeHeader('content-length');
  }

  clearBody(): void {
    this.newBody = undefined;
    this.bodyCleared = true;
    this.body = EMPTY_BUF;
    if (this.bufferedBody) this.setHeader('content-length', '0');
  }

  immediateResponse(opts: ImmediateResponseOptions): void {
    const { buf, json } = toBody(opts.body);
    const set: envoyCore.HeaderValueOption[] = [];
    if (json)
      set.push(hvo('content-type', 'application/json', AppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
    if (opts.headers !== undefined) {
      for (const [k, v] of Object.entries(opts.headers)) {
        set.push(hvo(k.toLowerCase(), v, AppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
      }
    }
    this.immediate = {
      status: { code: opts.status },
      headers: set.length > 0 ? { setHeaders: set, removeHeaders: [] } : undefined,
      body: buf,
      grpcStatus: undefined,
      details: opts.details ?? '',
    };
  }

  /** @internal adds a header to the immediate response (used for the applied-processors header). */
  addImmediateHeader(name: string, value: string): void {
    const im = this.immediate;
    if (im === undefined) return;
    const opt = hvo(name, value, AppendAction.APPEND_IF_EXISTS_OR_ADD);
    if (im.headers === undefined) im.headers = { setHeaders: [opt], removeHeaders: [] };
    else im.headers.setHeaders.push(opt);
  }

  setDynamicMetadata(namespace: string, value: Record<string, unknown>): void {
    const md = (this.dynamicMetadata ??= {});
    const prev = md[namespace];
    md[namespace] = prev !== null && typeof prev === 'object' ? { ...prev, ...value } : value;
  }

  overrideMode(mode: ProcessingModeSpec): void {
    this.modeOverride = toProtoMode(mode);
  }

  clearRouteCache(): void {
    this.routeCache = true;
  }

  /** Builds the response for the current message with only what changed. */
  build(): extProc.ProcessingResponse {
    if (
      this.immediate === undefined &&
      this.setHeaders === undefined &&
      this.removeHeaders === undefined &&
      this.newBody === undefined &&
      !this.bodyCleared &&
      !this.routeCache &&
      this.dynamicMetadata === undefined &&
      this.modeOverride === undefined
    ) {
      return UNTOUCHED_RESPONSES[this.kind];
    }
    const res: extProc.ProcessingResponse = {
      response: undefined,
      dynamicMetadata: this.dynamicMetadata,
      modeOverride: this.modeOverride,
      overrideMessageTimeout: undefined,
    };
    if (this.immediate !== undefined) {
      res.response = { $case: 'immediateResponse', value: this.immediate };
      return res;
    }
    const headerMutation =
      this.setHeaders !== undefined || this.removeHeaders !== undefined
        ? { setHeaders: this.setHeaders ?? [], removeHeaders: this.removeHeaders ?? [] }
        : undefined;
    switch (this.kind) {
      case 'requestTrailers':
      case 'responseTrailers':
        res.response = { $case: this.kind, value: { headerMutation } };
        return res;
      default: {
        const bodyMutation: extProc.BodyMutation | undefined =
          this.newBody !== undefined
            ? { mutation: { $case: 'body', value: this.newBody } }
            : this.bodyCleared
              ? { mutation: { $case: 'clearBody', value: true } }
              : undefined;
        const common: extProc.CommonResponse | undefined =
          headerMutation !== undefined || bodyMutation !== undefined || this.routeCache
            ? {
                status:
                  bodyMutation !== undefined && this.kind.endsWith('Headers')
                    ? ResponseStatus.CONTINUE_AND_REPLACE
                    : ResponseStatus.CONTINUE,
                headerMutation,
                bodyMutation,
                trailers: undefined,
                clearRouteCache: this.routeCache,
              }
            : undefined;
        if (this.kind === 'requestHeaders' || this.kind === 'responseHeaders') {
          res.response = { $case: this.kind, value: { response: common } };
        } else {
          res.response = { $case: this.kind, value: { response: common } };
        }
        return res;
      }
    }
  }
}
