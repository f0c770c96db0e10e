import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type HealthReport, type OpsServer, startOpsServer } from '@edge/nest-common/ops-server';
import { type Logger } from '@edge/processor-core';
import { ExtProcService } from '@edge/processor-core/nest';
import { Registry } from 'prom-client';
import {
  IDEMPOTENCY_PROCESSOR_CONFIG,
  type IdempotencyProcessorConfig,
} from '../config/idempotency-processor.config';
import { LOGGER } from '../logging/logger';
import { RedisConnection } from '../redis/redis-connection';

/** gRPC health service name that follows Redis (the server itself stays SERVING: it degrades). */
export const REDIS_HEALTH_SERVICE = 'idempotency.redis';

/**
 * What runs around the ext_proc server: Redis (connect at bootstrap, in the background: the
 * processor serves degraded until Redis is up and recovers by itself), the `/metrics` +
 * `/health` endpoint, and the Redis state mirrored to gRPC health (`idempotency.redis`).
 * Shutdown: the ext_proc streams drain first (they may still store responses), then Redis
 * closes in onApplicationShutdown.
 */
@Injectable()
export class ExtProcLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private ops: OpsServer | undefined;

  constructor(
    @Inject(ExtProcService) private readonly extProc: ExtProcService,
    @Inject(IDEMPOTENCY_PROCESSOR_CONFIG) private readonly config: IdempotencyProcessorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Registry) private readonly registry: Registry,
    @Inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  get port(): number {
    return this.extProc.port;
  }

  get opsPort(): number | undefined {
    return this.ops?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.redis.onChange((up) => this.mirrorHealth(up));
    this.redis.start();
    if (this.config.METRICS_PORT !== 0) {
      this.ops = await startOpsServer({
        registry: this.registry,
        health: () => this.health(),
        logger: this.logger,
        host: this.config.GRPC_HOST,
        port: this.config.METRICS_PORT,
      });
    }
  }

  /**
   * GET /health: 200 `{"status":"ok","redis":"up"}` while Redis is usable, 503
   * `{"status":"degraded","redis":"down"}` otherwise (the processor still answers then, per
   * route policy).
   */
  health(): HealthReport {
    const up = this.redis.isUp;
    return {
      code: up ? 200 : 503,
      body: { status: up ? 'ok' : 'degraded', redis: up ? 'up' : 'down' },
    };
  }

  /** Called by app.ts once the microservice listens. */
  logStarted(): void {
    this.mirrorHealth(this.redis.isUp);
    this.logger.info(
      { event: 'started', grpc_port: this.port, metrics_port: this.ops?.port },
      'idempotency-processor listening',
    );
  }

  private mirrorHealth(up: boolean): void {
    this.extProc.extProcServer?.health.set(up ? 'SERVING' : 'NOT_SERVING', REDIS_HEALTH_SERVICE);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.extProc.shutdown();
    await this.ops?.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.stop();
  }
}
