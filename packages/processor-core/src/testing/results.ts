import { envoyCore, extProc } from '@edge/protos';
import { headerValueString } from '../headers';

const { HeaderValueOption_HeaderAppendAction: AppendAction } = envoyCore;

/** A header mutation, flattened for assertions. */
export interface HeaderChanges {
  /** OVERWRITE_IF_EXISTS_OR_ADD (`setHeader`), last value per name. */
  set: Record<string, string>;
  /** APPEND_IF_EXISTS_OR_ADD (`appendHeader`), every value in order. */
  append: Record<string, string[]>;
  /** ADD_IF_ABSENT (`addHeaderIfAbsent`). */
  addIfAbsent: Record<string, string>;
  /** remove_headers. */
  remove: string[];
}

export interface ImmediateResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  details: string;
}

/** One ProcessingResponse, easy to assert on. */
export interface PhaseResult {
  /** The response exactly as it went on the wire (decoded back). */
  raw: extProc.ProcessingResponse;
  /** Which response Envoy got: the phase's own, or `immediateResponse`. */
  kind: NonNullable<extProc.ProcessingResponse['response']>['$case'] | 'none';
  immediate: ImmediateResult | undefined;
  headers: HeaderChanges;
  /** The replacement body (undefined when unchanged). */
  body: Buffer | undefined;
  bodyText: string | undefined;
  bodyCleared: boolean;
  /** CONTINUE_AND_REPLACE was used. */
  replaced: boolean;
  clearRouteCache: boolean;
  dynamicMetadata: Record<string, unknown> | undefined;
  modeOverride: extProc.ProcessingResponse['modeOverride'];
  /** True when nothing at all was asked of Envoy (the cheapest answer). */
  unchanged: boolean;
}

export function headerChanges(m: extProc.HeaderMutation | undefined): HeaderChanges {
  const out: HeaderChanges = { set: {}, append: {}, addIfAbsent: {}, remove: [] };
  if (m === undefined) return out;
  for (const o of m.setHeaders) {
    if (o.header === undefined) continue;
    const k = o.header.key;
    const v = headerValueString(o.header);
    // `append` (what Envoy's ext_proc honours) wins; else `append_action` (proto3 default APPEND).
    const action =
      o.append === true
        ? AppendAction.APPEND_IF_EXISTS_OR_ADD
        : o.append === false && o.appendAction !== AppendAction.ADD_IF_ABSENT
          ? AppendAction.OVERWRITE_IF_EXISTS_OR_ADD
          : o.appendAction;
    switch (action) {
      case AppendAction.APPEND_IF_EXISTS_OR_ADD:
        (out.append[k] ??= []).push(v);
        break;
      case AppendAction.ADD_IF_ABSENT:
        out.addIfAbsent[k] = v;
        break;
      default:
        out.set[k] = v;
    }
  }
  out.remove = [...m.removeHeaders];
  return out;
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

export function toPhaseResult(raw: extProc.ProcessingResponse): PhaseResult {
  const r = raw.response;
  const base: PhaseResult = {
    raw,
    kind: r?.$case ?? 'none',
    immediate: undefined,
    headers: headerChanges(undefined),
    body: undefined,
    bodyText: undefined,
    bodyCleared: false,
    replaced: false,
    clearRouteCache: false,
    dynamicMetadata: raw.dynamicMetadata,
    modeOverride: raw.modeOverride,
    unchanged: false,
  };
  if (r === undefined) return { ...base, unchanged: true };
  if (r.$case === 'immediateResponse') {
    const v = r.value;
    const headers: Record<string, string> = {};
    for (const o of v.headers?.setHeaders ?? []) {
      if (o.header === undefined) continue;
      const val = headerValueString(o.header);
      const prev = headers[o.header.key];
      headers[o.header.key] = prev === undefined ? val : `${prev},${val}`;
    }
    const body = v.body.toString('utf8');
    base.immediate = {
      status: v.status?.code ?? 0,
      headers,
      body,
      json: tryJson(body),
      details: v.details,
    };
    return base;
  }
  if (r.$case === 'requestTrailers' || r.$case === 'responseTrailers') {
    base.headers = headerChanges(r.value.headerMutation);
    base.unchanged =
      r.value.headerMutation === undefined &&
      raw.dynamicMetadata === undefined &&
      raw.modeOverride === undefined;
    return base;
  }
  const c = r.value.response;
  base.headers = headerChanges(c?.headerMutation);
  const bm = c?.bodyMutation?.mutation;
  if (bm?.$case === 'body') {
    base.body = bm.value;
    base.bodyText = bm.value.toString('utf8');
  } else if (bm?.$case === 'clearBody') base.bodyCleared = bm.value;
  base.replaced = c?.status === extProc.CommonResponse_ResponseStatus.CONTINUE_AND_REPLACE;
  base.clearRouteCache = c?.clearRouteCache ?? false;
  base.unchanged =
    c === undefined && raw.dynamicMetadata === undefined && raw.modeOverride === undefined;
  return base;
}
