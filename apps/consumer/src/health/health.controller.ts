import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthIndicatorService,
  type HealthIndicatorResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { IngestService } from '../ingest/ingest.service';
import { KafkaConsumerState } from '../ingest/kafka-consumer-state';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicator: HealthIndicatorService,
    @Inject(IngestService) private readonly ingest: IngestService,
    @Inject(KafkaConsumerState) private readonly kafka: KafkaConsumerState,
  ) {}

  /**
   * Readiness: 200 when Postgres answers within 1.5 s (pending records and the Kafka consumer's
   * state reported), else 503 JSON. Kafka being down is not a 503 (kafkajs reconnects by
   * itself); a consumer kafkajs gave up on (`failed`) is: only a restart brings it back.
   */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 1500 }),
      (): HealthIndicatorResult => ({
        ingest: { status: 'up', pending: this.ingest.pendingCount },
      }),
      () => this.kafkaCheck(),
    ]);
  }

  /**
   * Liveness: 503 only for what a restart fixes (a Kafka consumer kafkajs gave up on). Postgres
   * down is not: the consumer retries its inserts and pauses, and restarting it would not help.
   */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.kafkaCheck()]);
  }

  private kafkaCheck(): HealthIndicatorResult {
    const { status, ...rest } = this.kafka.view();
    const kafka = this.indicator.check('kafka');
    return status === 'failed'
      ? kafka.down({ consumer: status, ...rest })
      : kafka.up({ consumer: status, ...rest });
  }
}
