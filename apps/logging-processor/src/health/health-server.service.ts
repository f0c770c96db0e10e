import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type OpsServer, startOpsServer } from '@edge/nest-common/ops-server';
import { ExtProcService } from '@edge/processor-core/nest';
import { Registry } from 'prom-client';
import {
  LOGGING_PROCESSOR_CONFIG,
  type LoggingProcessorConfig,
} from '../config/logging-processor.config';
import { LOGGER, type Logger } from '../logging/logger';
import { KafkaPublisher } from '../publisher/kafka-publisher.service';

/** The body of GET /health. */
export interface HealthBody {
  status: 'ok' | 'shutting_down';
  ext_proc: 'serving' | 'not_serving';
  kafka: 'reachable' | 'unreachable';
  buffered: number;
}

/**
 * GET /metrics (Prometheus) and GET /health on METRICS_PORT. Health is 200 whenever the
 * ext_proc server serves, whatever Kafka does: Kafka being down is reported (`kafka:
 * "unreachable"`, metric logging_kafka_reachable 0) but never makes the processor unready,
 * since records are buffered and requests must not fail. 503 only while shutting down.
 */
@Injectable()
export class HealthServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: OpsServer | undefined;
  port = 0;

  constructor(
    @Inject(LOGGING_PROCESSOR_CONFIG) private readonly config: LoggingProcessorConfig,
    @Inject(Registry) private readonly registry: Registry,
    @Inject(KafkaPublisher) private readonly publisher: KafkaPublisher,
    @Inject(ExtProcService) private readonly extProc: ExtProcService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  health(): { code: number; body: HealthBody } {
    const serving = this.extProc.isServing();
    const stats = this.publisher.stats();
    return {
      code: serving ? 200 : 503,
      body: {
        status: serving ? 'ok' : 'shutting_down',
        ext_proc: serving ? 'serving' : 'not_serving',
        kafka: stats.kafkaReachable ? 'reachable' : 'unreachable',
        buffered: stats.buffered,
      },
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.METRICS_PORT === 0) return;
    this.server = await startOpsServer({
      host: this.config.GRPC_HOST,
      port: this.config.METRICS_PORT,
      registry: this.registry,
      health: () => this.health(),
      logger: this.logger,
    });
    this.port = this.server.port;
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Drain ext_proc streams first (their records land in the buffer), then the publisher
    // flushes in onApplicationShutdown; /health answers 503 meanwhile.
    await this.extProc.shutdown();
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }
}
