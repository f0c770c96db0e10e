import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  type HealthIndicatorResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { IngestService } from '../ingest/ingest.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    @Inject(IngestService) private readonly ingest: IngestService,
  ) {}

  /** 200 when Postgres answers within 1.5 s (pending records reported), else 503 JSON. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 1500 }),
      (): HealthIndicatorResult => ({
        ingest: { status: 'up', pending: this.ingest.pendingCount },
      }),
    ]);
  }
}
