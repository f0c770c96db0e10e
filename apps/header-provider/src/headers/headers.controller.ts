import { Controller, Get, Header, HttpException, HttpStatus } from '@nestjs/common';
import { HeaderProviderMetrics } from '../metrics/header-provider.metrics';
import { HeadersService } from './headers.service';

@Controller('headers')
export class HeadersController {
  constructor(
    private readonly headers: HeadersService,
    private readonly metrics: HeaderProviderMetrics,
  ) {}

  /** 200 `{ name: value }`; 503 JSON while no valid token is held (the filter keeps its cache). */
  @Get()
  @Header('cache-control', 'no-store')
  get(): Record<string, string> {
    const headers = this.headers.current();
    if (headers === undefined) {
      this.metrics.request(503);
      throw new HttpException(
        'TokenUnavailable No valid workload token yet (the auth service is unreachable or refused the key)',
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    this.metrics.request(200);
    return headers;
  }
}
