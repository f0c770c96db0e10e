import { HttpException } from '@nestjs/common';
import { type ErrorBody, errorBody } from '@edge/auth-contract';
import {
  type BodyParserError,
  type HttpErrorResponse,
  isBodyParserError,
} from '@edge/nest-common/http-errors';
import { type FieldProblem } from '../topology/snapshot-builder';

/** The platform's error body, plus the fields at fault when the input was wrong. */
export type ApiErrorBody = ErrorBody & { fields?: FieldProblem[] };

/** A 4xx naming the fields at fault: `{ message, status, details: "InvalidField <field>: ...", fields }`. */
export function invalidFields(
  status: 400 | 404 | 409 | 422,
  problems: FieldProblem[],
): HttpException {
  const first = problems[0];
  const details = first
    ? `InvalidField ${first.field}: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`
    : 'InvalidField';
  return new HttpException({ ...errorBody(status, details), fields: problems }, status);
}

/** Sent with every 401 (ApiExceptionFilter). */
export const WWW_AUTHENTICATE = 'Bearer realm="control-plane"';

export function apiError(status: number, details: string): HttpException {
  return new HttpException(errorBody(status, details), status);
}

/** The JSON body of any error (HttpExceptions keep theirs; anything else is a bare 500). */
export function toApiError(exception: unknown): ApiErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    if (typeof res === 'object' && 'details' in res) return res as ApiErrorBody;
    const message = typeof res === 'string' ? res : exception.message;
    return errorBody(status, `${exception.name} ${message}`);
  }
  if (isBodyParserError(exception)) return bodyParserErrorBody(exception);
  return errorBody(500, 'InternalError The request could not be processed');
}

function bodyParserErrorBody(err: BodyParserError): ApiErrorBody {
  if (err.type === 'entity.too.large') {
    return errorBody(413, 'PayloadTooLarge The request body is too large');
  }
  if (err.type === 'entity.parse.failed')
    return errorBody(400, 'MalformedBody The body is not valid JSON');
  return errorBody(err.status, 'MalformedBody The request body could not be read');
}

/** The filter's answer: the body, with its own status. */
export function toApiResponse(exception: unknown): HttpErrorResponse {
  const body = toApiError(exception);
  return { status: body.status, body };
}

/** The answer to a body the parsers refused: 413 / 400 JSON. */
export function bodyParserErrorResponse(err: BodyParserError): HttpErrorResponse {
  const body = bodyParserErrorBody(err);
  return { status: body.status, body };
}
