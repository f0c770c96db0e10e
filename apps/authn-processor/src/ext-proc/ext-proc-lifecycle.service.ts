import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type Logger, type MetricsServer, startMetricsServer } from '@edge/processor-core';
import { ExtProcService } from '@edge/processor-core/nest';
import { Registry } from 'prom-client';
import {
  AUTHN_PROCESSOR_CONFIG,
  type AuthnProcessorConfig,
} from '../config/authn-processor.config';
import { LOGGER } from '../logging/logger';

/**
 * What runs around processor-core's ext_proc server, which ExtProcTransport starts (app.ts):
 * the Prometheus endpoint (up at bootstrap, before the ext_proc server accepts streams) and the
 * start-up log line. Shutdown order: the transport's close() / ExtProcService's
 * beforeApplicationShutdown drain the ext_proc streams (NOT_SERVING, in-flight streams finish)
 * *before* any onApplicationShutdown stops the key watcher and the auth gRPC client those streams
 * depend on; the metrics endpoint closes after the drain.
 */
@Injectable()
export class ExtProcLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private metricsServer: MetricsServer | undefined;

  constructor(
    @Inject(ExtProcService) private readonly extProc: ExtProcService,
    @Inject(AUTHN_PROCESSOR_CONFIG) private readonly config: AuthnProcessorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Registry) private readonly registry: Registry,
  ) {}

  /** The bound ext_proc port (useful with GRPC_PORT=0); 0 until the transport listens. */
  get port(): number {
    return this.extProc.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.METRICS_PORT !== 0) {
      this.metricsServer = await startMetricsServer({
        registry: this.registry,
        host: this.config.GRPC_HOST,
        port: this.config.METRICS_PORT,
      });
    }
  }

  /** Called by app.ts once the microservice listens. */
  logStarted(): void {
    this.logger.info(
      { event: 'started', grpc_port: this.port, metrics_port: this.metricsServer?.port },
      'authn-processor listening',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Idempotent: on app.close() the transport has already drained it.
    await this.extProc.shutdown();
    await this.metricsServer?.close();
  }
}
