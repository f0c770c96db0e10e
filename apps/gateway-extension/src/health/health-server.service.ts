import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type OpsServer, startOpsServer } from '@edge/nest-common/ops-server';
import { Registry } from 'prom-client';
import {
  GATEWAY_EXTENSION_CONFIG,
  type GatewayExtensionConfig,
} from '../config/gateway-extension.config';
import { ExtensionServer } from '../extension/extension.server';
import { LOGGER, type Logger } from '../logging/logger';

/** The body of GET /health. */
export interface HealthBody {
  status: 'ok' | 'shutting_down';
  grpc: 'serving' | 'not_serving';
}

/**
 * GET /health (200 while the gRPC extension service serves, 503 otherwise: readiness and
 * liveness for the chart) and GET /metrics (Prometheus) on METRICS_PORT.
 */
@Injectable()
export class HealthServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server: OpsServer | undefined;
  port = 0;

  constructor(
    @Inject(GATEWAY_EXTENSION_CONFIG) private readonly config: GatewayExtensionConfig,
    @Inject(Registry) private readonly registry: Registry,
    @Inject(ExtensionServer) private readonly grpc: ExtensionServer,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  health(): { code: number; body: HealthBody } {
    const serving = this.grpc.isServing();
    return {
      code: serving ? 200 : 503,
      body: { status: serving ? 'ok' : 'shutting_down', grpc: serving ? 'serving' : 'not_serving' },
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
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }
}
