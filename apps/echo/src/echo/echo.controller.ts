import { All, BadRequestException, Controller, Get, Query, Req } from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { type EchoedRequest, EchoService } from './echo.service';
import { RequestCounter } from './request-counter';

/** The counter's own path: never counted, never echoed (the front proxy routes only /api/v0/). */
export const COUNT_PATH = '_echo/requests';

@Controller()
export class EchoController {
  constructor(
    private readonly echoService: EchoService,
    private readonly counter: RequestCounter,
  ) {}

  /** `GET /_echo/requests?path=/api/v0/x`: how many requests echo answered for that path. */
  @Get(COUNT_PATH)
  requests(@Query('path') path: unknown): { path: string; count: number } {
    if (typeof path !== 'string' || path === '') {
      throw new BadRequestException('query parameter "path" is required');
    }
    return { path, count: this.counter.count(path) };
  }

  @All('*')
  echo(@Req() req: FastifyRequest): EchoedRequest {
    this.counter.record(req.url);
    return this.echoService.echo({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body,
    });
  }
}
