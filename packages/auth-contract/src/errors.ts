import { type ErrorBody, errorBody, errorDetails } from '@edge/processor-core/error-body';

// The JSON error body is processor-core's (`{ message, status, details, request_id? }`): one
// shape for every error at the edge. This contract fixes the `details` codes that the issuer
// (apps/auth) and the gateway (apps/authn-processor) both use: `details` is `"<Code> <sentence>"`.
export {
  errorBody,
  errorDetails,
  statusMessage,
  type ErrorBody,
} from '@edge/processor-core/error-body';

/** 401 codes: the request carries no valid credentials. */
export const UNAUTHENTICATED_CODES = [
  'NoCredentials',
  'MalformedCredentials',
  'UnsupportedScheme',
  'UnknownKey',
  'InvalidSecret',
  'RevokedKey',
  'ExpiredKey',
  'InvalidToken',
  'ExpiredToken',
] as const;
export type UnauthenticatedCode = (typeof UNAUTHENTICATED_CODES)[number];

/** 403 codes: the credentials are valid but not enough for this request. */
export const FORBIDDEN_CODES = ['MissingScope', 'NotPermitted'] as const;
export type ForbiddenCode = (typeof FORBIDDEN_CODES)[number];

/** 5xx codes of the gateway. */
export const SERVER_ERROR_CODES = ['AuthBackendUnavailable', 'RouteMisconfigured'] as const;
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

export type AuthErrorCode = UnauthenticatedCode | ForbiddenCode | ServerErrorCode;

/** An error body whose `details` starts with a contract code. */
export type AuthErrorBody = ErrorBody<string>;

/** `{ message, status, details: "<code> <sentence>" }` for a contract code. */
export function authErrorBody(
  status: number,
  code: AuthErrorCode,
  sentence: string,
  requestId?: string,
): AuthErrorBody {
  return errorBody(status, errorDetails(code, sentence), requestId);
}

/**
 * The body as the gateway sends it, byte for byte the quickstart transcript's form
 * (`{"message": "Unauthenticated", "status": 401, "details": "..."}`); any JSON parser reads
 * the same object as from apps/auth's compact JSON.
 */
export function formatErrorBody(body: ErrorBody): string {
  let s = `{"message": ${JSON.stringify(body.message)}, "status": ${body.status}, "details": ${JSON.stringify(body.details ?? null)}`;
  if (body.request_id !== undefined) s += `, "request_id": ${JSON.stringify(body.request_id)}`;
  return `${s}}`;
}

const ALL_CODES: ReadonlySet<string> = new Set<string>([
  ...UNAUTHENTICATED_CODES,
  ...FORBIDDEN_CODES,
  ...SERVER_ERROR_CODES,
]);

/** The contract code a `details` value starts with, if any. */
export function detailsCode(details: unknown): AuthErrorCode | undefined {
  if (typeof details !== 'string') return undefined;
  const word = details.split(' ', 1)[0] ?? '';
  return ALL_CODES.has(word) ? (word as AuthErrorCode) : undefined;
}
