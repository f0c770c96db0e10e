// The platform's JSON error body, the one shape every error reply at the edge has: the
// processors' immediate responses, Envoy's own local replies (front-proxy.yaml) and the auth
// service's HTTP errors. Kept free of imports so `@edge/processor-core/error-body` is cheap to
// import from packages that are not ext_proc processors (`@edge/auth-contract` builds on it).

/**
 * `{ "message", "status", "details" }` (+ `request_id` when known). `message` is the reason
 * phrase of `status`; `details` says what was wrong, by convention `"<Code> <sentence>"` (a
 * code word first so clients and logs can match it), or a structured value (e.g. a list of
 * validation problems), or null. It never echoes a credential or a request body.
 */
export interface ErrorBody<D = unknown> {
  message: string;
  status: number;
  details: D;
  request_id?: string;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The `message` for a status: its reason phrase (`Unauthenticated` for 401, as in the quickstart). */
export function statusMessage(status: number): string {
  return (
    REASONS[status] ?? (status >= 500 ? 'Server Error' : status >= 400 ? 'Client Error' : 'Error')
  );
}

/** Builds an error body; `request_id` only when given and non-empty. */
export function errorBody<D>(status: number, details: D, requestId?: string): ErrorBody<D> {
  const body: ErrorBody<D> = { message: statusMessage(status), status, details };
  if (requestId !== undefined && requestId !== '') body.request_id = requestId;
  return body;
}

/** `"<code> <sentence>"`, the conventional `details` string. */
export function errorDetails(code: string, sentence: string): string {
  return sentence === '' ? code : `${code} ${sentence}`;
}
