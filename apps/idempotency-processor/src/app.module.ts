import { type DynamicModule, Module } from '@nestjs/common';
import { type Logger } from '@edge/processor-core';
import { ExtProcModule } from '@edge/processor-core/nest';
import { Registry } from 'prom-client';
import {
  IDEMPOTENCY_PROCESSOR_CONFIG,
  type IdempotencyProcessorConfig,
} from './config/idempotency-processor.config';
import { ExtProcLifecycle } from './ext-proc/ext-proc-lifecycle.service';
import {
  IDEMPOTENCY_SETTINGS,
  IdempotencyProcessor,
  type IdempotencySettings,
} from './idempotency/idempotency.processor';
import { createLogger, LOGGER } from './logging/logger';
import { IdempotencyMetrics } from './metrics/idempotency.metrics';
import { RedisConnection } from './redis/redis-connection';
import { IDEMPOTENCY_STORE } from './store/idempotency.store';
import { RedisIdempotencyStore } from './store/redis-idempotency.store';

@Module({})
export class AppModule {
  static forRoot(config: IdempotencyProcessorConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        // processor-core's Nest integration: messages go from grpc-js straight to the processor.
        ExtProcModule.forRootAsync({
          processors: [IdempotencyProcessor],
          inject: [IDEMPOTENCY_PROCESSOR_CONFIG, LOGGER, Registry],
          useFactory: (c: IdempotencyProcessorConfig, logger: Logger, registry: Registry) => ({
            host: c.GRPC_HOST,
            port: c.GRPC_PORT,
            logger,
            metrics: { registry },
            errorPolicy: { status: 503 },
          }),
        }),
      ],
      providers: [
        { provide: IDEMPOTENCY_PROCESSOR_CONFIG, useValue: config },
        { provide: LOGGER, useFactory: () => createLogger(config.LOG_LEVEL) },
        { provide: Registry, useFactory: () => new Registry() },
        {
          provide: RedisConnection,
          inject: [LOGGER],
          useFactory: (logger: Logger) =>
            new RedisConnection(
              {
                url: config.REDIS_URL,
                commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
                connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
                reconnectMaxMs: config.REDIS_RECONNECT_MAX_MS,
              },
              logger,
            ),
        },
        {
          provide: IDEMPOTENCY_STORE,
          inject: [RedisConnection],
          useFactory: (r: RedisConnection) => new RedisIdempotencyStore(r.client),
        },
        {
          provide: IdempotencyMetrics,
          inject: [Registry, RedisConnection],
          useFactory: (registry: Registry, r: RedisConnection) =>
            new IdempotencyMetrics(registry, () => r.isUp),
        },
        {
          provide: IDEMPOTENCY_SETTINGS,
          useValue: {
            keyPrefix: config.REDIS_KEY_PREFIX,
            lockTtlMs: config.IDEMPOTENCY_LOCK_TTL_MS,
            retentionSeconds: config.IDEMPOTENCY_RETENTION_SECONDS,
            maxResponseBytes: config.IDEMPOTENCY_MAX_RESPONSE_BYTES,
            retryAfterSeconds: config.IDEMPOTENCY_RETRY_AFTER_SECONDS,
            testStoreDelayMs: config.IDEMPOTENCY_TEST_STORE_DELAY_MS,
          } satisfies IdempotencySettings,
        },
        ExtProcLifecycle,
      ],
      exports: [
        IDEMPOTENCY_PROCESSOR_CONFIG,
        LOGGER,
        Registry,
        RedisConnection,
        IDEMPOTENCY_STORE,
        IdempotencyMetrics,
        IDEMPOTENCY_SETTINGS,
      ],
    };
  }
}
