import { Controller, Get, Res } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { HeaderProviderMetrics } from './header-provider.metrics';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: HeaderProviderMetrics) {}

  /** Prometheus text format. */
  @Get()
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const body = await this.metrics.registry.metrics();
    await reply.header('content-type', this.metrics.registry.contentType).send(body);
  }
}
