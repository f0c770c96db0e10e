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
 * Starts processor-core's ext_proc server (ExtProcService, from its Nest module) once every
 * provider is ready, and the Prometheus endpoint next to it. At shutdown the ext_proc server is
 * drained (NOT_SERVING, in-flight streams finish) *before* any module's onApplicationShutdown
 * stops the key watcher and the auth gRPC client those streams depend on.
 */
@Injectable()
export class ExtProcLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private metricsServer: MetricsServer | undefined;
  private boundPort = 0;

  constructor(
    @Inject(ExtProcService) private readonly extProc: ExtProcService,
    @Inject(AUTHN_PROCESSOR_CONFIG) private readonly config: AuthnProcessorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Registry) private readonly registry: Registry,
  ) {}

  /** The bound ext_proc port (useful with GRPC_PORT=0). */
  get port(): number {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.boundPort = await this.extProc.start();
    if (this.config.METRICS_PORT !== 0) {
      this.metricsServer = await startMetricsServer({
        registry: this.registry,
        host: this.config.GRPC_HOST,
        port: this.config.METRICS_PORT,
      });
    }
    this.logger.info(
      { event: 'started', grpc_port: this.boundPort, metrics_port: this.metricsServer?.port },
      'authn-processor listening',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.extProc.shutdown();
    await this.metricsServer?.close();
  }
}
