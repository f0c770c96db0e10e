import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { type ErrorBody, errorBody } from '@edge/auth-contract';
import { type NextFunction, type Request, type Response } from 'express';
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

export function apiError(status: number, details: string): HttpException {
  return new HttpException(errorBody(status, details), status);
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

function bodyParserErrorBody(err: { status: number; type: string }): ApiErrorBody {
  if (err.type === 'entity.too.large') {
    return errorBody(413, 'PayloadTooLarge The request body is too large');
  }
  if (err.type === 'entity.parse.failed')
    return errorBody(400, 'MalformedBody The body is not valid JSON');
  return errorBody(err.status, 'MalformedBody The request body could not be read');
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = toApiError(exception);
    if (body.status >= 500 && !(exception instanceof HttpException)) {
      const e = exception as Error;
      this.logger.error(`unhandled error: ${e?.name ?? 'Error'}: ${e?.message ?? 'unknown'}`);
    }
    if (res.headersSent) return;
    if (body.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="control-plane"');
    res.status(body.status).json(body);
  }
}

/** Express error middleware right after the body parsers: 413 / 400 JSON. */
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
  const body = bodyParserErrorBody(err);
  res.status(body.status).json(body);
}
