import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  type HealthIndicatorResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { XdsService } from '../xds/xds.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    @Inject(XdsService) private readonly xds: XdsService,
  ) {}

  /** 200 when Postgres answers and the xDS port is bound (connected streams reported), else 503. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 1500 }),
      (): HealthIndicatorResult => {
        const port = this.xds.boundPort();
        const streams = this.xds.server
          .status()
          .reduce((n, s) => n + s.streams.sotw + s.streams.delta, 0);
        return { xds: { status: port === undefined ? 'down' : 'up', port, streams } };
      },
    ]);
  }
}
