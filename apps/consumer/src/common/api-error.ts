import { HttpException } from '@nestjs/common';
import { type HttpErrorResponse } from '@edge/nest-common/http-errors';

/**
 * Every HTTP error is `{ message, status, details }` JSON (the platform's error shape):
 * HttpExceptions carrying a body with `details` send it as it is, other HttpExceptions are
 * `{ message, status, details: <exception name> }`, anything else a 500 that says nothing of
 * its cause.
 */
export function toApiResponse(err: unknown): HttpErrorResponse {
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const body = err.getResponse();
    if (typeof body === 'object' && body !== null && 'details' in body) return { status, body };
    return { status, body: { message: err.message, status, details: err.name } };
  }
  return {
    status: 500,
    body: { message: 'Internal Server Error', status: 500, details: 'Unexpected' },
  };
}
