import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';

/**
 * Every error is the platform's JSON shape `{ message, status, details }` (details starts with a
 * code); unknown errors are a 500 that says nothing about their cause.
 */
@Catch()
export class JsonExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status = 500;
    let details = 'InternalError Unexpected error';
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const res = exception.getResponse();
      details =
        typeof res === 'string'
          ? res
          : status === 404
            ? 'NoRoute No route for this path'
            : `${(STATUS_CODES[status] ?? 'Error').replace(/\s/g, '')} ${exception.message}`;
    }
    void reply
      .status(status)
      .header('content-type', 'application/json')
      .send({ message: STATUS_CODES[status] ?? 'Error', status, details });
  }
}
