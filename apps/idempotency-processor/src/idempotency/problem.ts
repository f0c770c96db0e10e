import { type HeadersPhase, type BodyPhase } from '@edge/processor-core';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Problem type URIs (RFC 9457 `type`): one per distinct problem. */
export const PROBLEM_TYPE_BASE = 'urn:edge:problem:idempotency:';

export type ProblemCode =
  | 'key-missing'
  | 'key-malformed'
  | 'unauthenticated'
  | 'request-in-flight'
  | 'payload-mismatch'
  | 'response-not-stored'
  | 'store-unavailable'
  | 'route-misconfigured';

const TITLES: Record<ProblemCode, string> = {
  'key-missing': 'Idempotency-Key is required',
  'key-malformed': 'Idempotency-Key is malformed',
  unauthenticated: 'Idempotency-Key needs an authenticated caller',
  'request-in-flight': 'A request with this Idempotency-Key is in progress',
  'payload-mismatch': 'Idempotency-Key reused with a different request',
  'response-not-stored': 'The response to this Idempotency-Key was not stored',
  'store-unavailable': 'Idempotency store unavailable',
  'route-misconfigured': 'Idempotency misconfigured on this route',
};

export interface Problem {
  status: number;
  code: ProblemCode;
  detail: string;
  headers?: Record<string, string>;
  /** RFC 9457 extension members. */
  extra?: Record<string, unknown>;
}

/** The RFC 9457 body of a problem. */
export function problemBody(p: Problem, instance: string): Record<string, unknown> {
  return {
    type: PROBLEM_TYPE_BASE + p.code,
    title: TITLES[p.code],
    status: p.status,
    detail: p.detail,
    ...(instance !== '' ? { instance: `urn:request:${instance}` } : {}),
    ...p.extra,
  };
}

/**
 * Answers with an `application/problem+json` immediate response (never cached). The body is
 * sent as a string so the SDK adds no `application/json` content type of its own.
 */
export function answerProblem(
  phase: HeadersPhase | BodyPhase,
  p: Problem,
  requestId: string,
): void {
  phase.immediateResponse({
    status: p.status,
    body: JSON.stringify(problemBody(p, requestId)),
    headers: {
      'content-type': PROBLEM_CONTENT_TYPE,
      'cache-control': 'no-store',
      ...p.headers,
    },
    details: `idempotency_${p.code.replace(/-/g, '_')}`,
  });
}
