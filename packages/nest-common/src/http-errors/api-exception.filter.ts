import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { type NextFunction, type Request, type Response } from 'express';

/** What an app answers for an error: the HTTP status and the JSON body. */
export interface HttpErrorResponse {
  status: number;
  body: unknown;
}

/** The per-app part of the filter. */
export interface ApiExceptionFilterOptions {
  /** The status and JSON body for any exception (the app's error shape). */
  toResponse(exception: unknown): HttpErrorResponse;
  /** Sent as `WWW-Authenticate` with every 401; none when absent. */
  wwwAuthenticate?: string;
}

/**
 * Every HTTP error becomes the app's JSON error body (`toResponse`). A 5xx from anything but an
 * HttpException is logged (its name and message only, never the request) and its cause is never
 * sent. Errors outside an HTTP context are rethrown; a response already under way is left alone.
 * Express only.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  constructor(private readonly options: ApiExceptionFilterOptions) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.options.toResponse(exception);
    if (status >= 500 && !(exception instanceof HttpException)) {
      const e = exception as Error;
      this.logger.error(
        `unhandled error: ${e?.name ?? 'Error'}: ${e?.message ?? String(exception)}`,
      );
    }
    if (res.headersSent) return;
    if (status === 401 && this.options.wwwAuthenticate !== undefined) {
      res.setHeader('WWW-Authenticate', this.options.wwwAuthenticate);
    }
    res.status(status).json(body);
  }
}

/** An error thrown by Express's body parsers (bad JSON, too large, bad charset, ...). */
export interface BodyParserError {
  status: number;
  type: string;
}

export function isBodyParserError(e: unknown): e is BodyParserError {
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

/**
 * Express error middleware to place right after the body parsers: a body-parser error is
 * answered with `toResponse(err)` as JSON, anything else is passed on.
 */
export function bodyParserErrorHandler(
  toResponse: (err: BodyParserError) => HttpErrorResponse,
): (err: unknown, req: Request, res: Response, next: NextFunction) => void {
  return (err, _req, res, next) => {
    if (!isBodyParserError(err)) {
      next(err);
      return;
    }
    const { status, body } = toResponse(err);
    res.status(status).json(body);
  };
}
