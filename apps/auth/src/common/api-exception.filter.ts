import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { type ErrorBody, errorBody } from '@edge/auth-contract';
import { type NextFunction, type Request, type Response } from 'express';

/** The platform's JSON error body (the contract's, shared with the gateway). */
export type ApiErrorBody = ErrorBody;

const WWW_AUTHENTICATE = 'Basic realm="edge", Bearer realm="edge"';

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

export function isBodyParserError(e: unknown): e is { status: number; type: string } {
  const x = e as { status?: unknown; type?: unknown } | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.status === 'number' &&
    x.status >= 400 &&
    x.status < 500 &&
    typeof x.type === 'string'
  );
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    const body = toApiError(exception);
    if (body.status >= 500 && !(exception instanceof HttpException)) {
      const e = exception as Error;
      this.logger.error(
        `unhandled error: ${e?.name ?? 'Error'}: ${e?.message ?? String(exception)}`,
      );
    }
    if (res.headersSent) return;
    if (body.status === 401) res.setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
    res.status(body.status).json(body);
  }
}

/** Express error middleware placed right after the body parser. */
export function bodyParserErrorHandler(
  err: unknown,
  _req: Request,
  res: Response,
  next: NextFunction,
): void {
  if (!isBodyParserError(err)) {
    next(err);
    return;
  }
  const body: ApiErrorBody = errorBody(
    err.status,
    err.type === 'entity.too.large' ? 'request body too large' : 'malformed request body',
  );
  res.status(err.status).json(body);
}
