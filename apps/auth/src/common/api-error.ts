import { HttpException, HttpStatus } from '@nestjs/common';
import { type ErrorBody, errorBody } from '@edge/auth-contract';
import {
  type BodyParserError,
  type HttpErrorResponse,
  isBodyParserError,
} from '@edge/nest-common/http-errors';

/** The platform's JSON error body (the contract's, shared with the gateway). */
export type ApiErrorBody = ErrorBody;

/** Sent with every 401 (ApiExceptionFilter). */
export const WWW_AUTHENTICATE = 'Basic realm="edge", Bearer realm="edge"';

/**
 * Every HTTP error becomes `{ message, status, details }`: HttpExceptions (ours, validation,
 * 404 for unknown routes, 400 for malformed JSON bodies) keep their status; anything else is a
 * 500 whose cause is logged (message only) and never sent.
 */
export function toApiError(exception: unknown): ApiErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    if (typeof res === 'string') return { message: res, status, details: null };
    const r = res as Record<string, unknown>;
    const rawMessage = r.message;
    if (Array.isArray(rawMessage)) {
      // class-validator via ValidationPipe: a list of problems.
      return { message: 'Validation failed', status, details: rawMessage };
    }
    if ('status' in r && 'info' in r) {
      // @nestjs/terminus health-check result.
      return { message: 'Service Unavailable', status, details: r };
    }
    if ('details' in r) {
      return {
        message: typeof rawMessage === 'string' ? rawMessage : exception.message,
        status,
        details: r.details,
      };
    }
    const message = typeof r.error === 'string' ? r.error : exception.message;
    const details = typeof rawMessage === 'string' && rawMessage !== message ? rawMessage : null;
    return { message, status, details };
  }
  if (isBodyParserError(exception)) {
    return { message: 'Bad Request', status: exception.status, details: 'malformed request body' };
  }
  return {
    message: 'Internal Server Error',
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    details: null,
  };
}

/** The filter's answer: the body, with its own status. */
export function toApiResponse(exception: unknown): HttpErrorResponse {
  const body = toApiError(exception);
  return { status: body.status, body };
}

/** The answer to a body the parser refused (never echoing it). */
export function bodyParserErrorResponse(err: BodyParserError): HttpErrorResponse {
  const body: ApiErrorBody = errorBody(
    err.status,
    err.type === 'entity.too.large' ? 'request body too large' : 'malformed request body',
  );
  return { status: err.status, body };
}
