import { processingMode } from '@edge/protos';

const { ProcessingMode_HeaderSendMode: HeaderSend, ProcessingMode_BodySendMode: BodySend } =
  processingMode;

export type HeaderSendMode = 'send' | 'skip';
export type BodySendMode =
  'none' | 'streamed' | 'buffered' | 'buffered-partial' | 'full-duplex-streamed';

/**
 * The phases a processor needs Envoy to send. Anything left out is the smallest setting
 * (headers/trailers `skip`, bodies `none`) except `requestHeaders`, which defaults to `send`.
 * Note Envoy's own default for response headers is SEND: the Envoy config (or
 * `toEnvoyProcessingMode`) must say SKIP to save that round trip.
 */
export interface ProcessingModeSpec {
  requestHeaders?: HeaderSendMode;
  responseHeaders?: HeaderSendMode;
  requestBody?: BodySendMode;
  responseBody?: BodySendMode;
  requestTrailers?: HeaderSendMode;
  responseTrailers?: HeaderSendMode;
}

export type FullProcessingMode = Required<ProcessingModeSpec>;

export const SMALLEST_MODE: FullProcessingMode = Object.freeze({
  requestHeaders: 'send',
  responseHeaders: 'skip',
  requestBody: 'none',
  responseBody: 'none',
  requestTrailers: 'skip',
  responseTrailers: 'skip',
});

export function fullMode(spec: ProcessingModeSpec | undefined): FullProcessingMode {
  return { ...SMALLEST_MODE, ...spec };
}

const BODY_RANK: Record<BodySendMode, number> = {
  none: 0,
  streamed: 1,
  'buffered-partial': 2,
  buffered: 3,
  'full-duplex-streamed': 4,
};

function maxBody(a: BodySendMode, b: BodySendMode): BodySendMode {
  return BODY_RANK[a] >= BODY_RANK[b] ? a : b;
}
function maxHeader(a: HeaderSendMode, b: HeaderSendMode): HeaderSendMode {
  return a === 'send' || b === 'send' ? 'send' : 'skip';
}

/** The smallest mode that satisfies every spec (used by `compose`). */
export function unionModes(specs: readonly (ProcessingModeSpec | undefined)[]): FullProcessingMode {
  let m: FullProcessingMode = { ...SMALLEST_MODE };
  for (const s of specs) {
    const f = fullMode(s);
    m = {
      requestHeaders: maxHeader(m.requestHeaders, f.requestHeaders),
      responseHeaders: maxHeader(m.responseHeaders, f.responseHeaders),
      requestBody: maxBody(m.requestBody, f.requestBody),
      responseBody: maxBody(m.responseBody, f.responseBody),
      requestTrailers: maxHeader(m.requestTrailers, f.requestTrailers),
      responseTrailers: maxHeader(m.responseTrailers, f.responseTrailers),
    };
  }
  return m;
}

function headerEnum(m: HeaderSendMode | undefined): processingMode.ProcessingMode_HeaderSendMode {
  if (m === undefined) return HeaderSend.DEFAULT;
  return m === 'send' ? HeaderSend.SEND : HeaderSend.SKIP;
}

function bodyEnum(m: BodySendMode | undefined): processingMode.ProcessingMode_BodySendMode {
  switch (m) {
    case 'streamed':
      return BodySend.STREAMED;
    case 'buffered':
      return BodySend.BUFFERED;
    case 'buffered-partial':
      return BodySend.BUFFERED_PARTIAL;
    case 'full-duplex-streamed':
      return 4 as processingMode.ProcessingMode_BodySendMode; // FULL_DUPLEX_STREAMED
    default:
      return BodySend.NONE;
  }
}

/** The protobuf ProcessingMode (for `ProcessingResponse.mode_override`). Unset fields stay DEFAULT/NONE. */
export function toProtoMode(spec: ProcessingModeSpec): processingMode.ProcessingMode {
  return {
    requestHeaderMode: headerEnum(spec.requestHeaders),
    responseHeaderMode: headerEnum(spec.responseHeaders),
    requestBodyMode: bodyEnum(spec.requestBody),
    responseBodyMode: bodyEnum(spec.responseBody),
    requestTrailerMode: headerEnum(spec.requestTrailers),
    responseTrailerMode: headerEnum(spec.responseTrailers),
  };
}

const BODY_NAMES: Record<BodySendMode, string> = {
  none: 'NONE',
  streamed: 'STREAMED',
  buffered: 'BUFFERED',
  'buffered-partial': 'BUFFERED_PARTIAL',
  'full-duplex-streamed': 'FULL_DUPLEX_STREAMED',
};

/** The `processing_mode` block for an Envoy ext_proc filter config (snake_case, JSON/YAML ready). */
export function toEnvoyProcessingMode(
  spec: ProcessingModeSpec | undefined,
): Record<string, string> {
  const f = fullMode(spec);
  const h = (m: HeaderSendMode): string => (m === 'send' ? 'SEND' : 'SKIP');
  return {
    request_header_mode: h(f.requestHeaders),
    response_header_mode: h(f.responseHeaders),
    request_body_mode: BODY_NAMES[f.requestBody],
    response_body_mode: BODY_NAMES[f.responseBody],
    request_trailer_mode: h(f.requestTrailers),
    response_trailer_mode: h(f.responseTrailers),
  };
}
