import { All, Controller, Req } from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { type EchoedRequest, EchoService } from './echo.service';

@Controller()
export class EchoController {
  constructor(private readonly echoService: EchoService) {}

  @All('*')
  echo(@Req() req: FastifyRequest): EchoedRequest {
    return this.echoService.echo({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body,
    });
  }
}
