import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { type Response } from 'express';

/** Every HTTP error is `{ message, status, details }` JSON (the platform's error shape). */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const body = err.getResponse();
      if (typeof body === 'object' && body !== null && 'details' in body) {
        res.status(status).json(body);
        return;
      }
      res.status(status).json({ message: err.message, status, details: err.name });
      return;
    }
    res.status(500).json({ message: 'Internal Server Error', status: 500, details: 'Unexpected' });
  }
}
