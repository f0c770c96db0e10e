import { createServer, type Server } from 'node:http';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
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
  private server: Server | undefined;
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
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/health') {
        const h = this.health();
        res.writeHead(h.code, { 'content-type': 'application/json' }).end(JSON.stringify(h.body));
        return;
      }
      if (req.method === 'GET' && path === '/metrics') {
        this.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
          (err: unknown) => {
            this.logger.error({ event: 'metrics_failed', err: String(err) }, 'metrics failed');
            res.writeHead(500, { 'content-type': 'application/json' }).end(
              JSON.stringify({
                message: 'Internal Server Error',
                status: 500,
                details: 'MetricsFailed',
              }),
            );
          },
        );
        return;
      }
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: 'Not Found', status: 404, details: 'NoRoute' }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.METRICS_PORT, this.config.GRPC_HOST, () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    this.server = server;
  }

  async beforeApplicationShutdown(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s !== undefined) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}
