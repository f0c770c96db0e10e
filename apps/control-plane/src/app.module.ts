import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SnapshotCache } from '@edge/xds-server';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { Registry } from 'prom-client';
import { typeOrmRootModule } from '@edge/nest-common/database';
import { MetricsController } from '@edge/nest-common/metrics';
import { AdminTokenGuard } from './auth/admin-token.guard';
import { LOGGER } from './common/logger';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from './config/control-plane.config';
import { MIGRATION_LOCK, typeOrmOptions } from './database/typeorm-options';
import { HealthController } from './health/health.controller';
import { ControlPlaneMetrics } from './metrics/control-plane.metrics';
import { NodesController } from './nodes/nodes.controller';
import { RoutesController } from './routes/routes.controller';
import { RoutesService } from './routes/routes.service';
import { SnapshotsService } from './snapshots/snapshots.service';
import { TopologyService } from './topology/topology.service';
import { UpstreamsController } from './upstreams/upstreams.controller';
import { UpstreamsService } from './upstreams/upstreams.service';
import { WasmController } from './wasm/wasm.controller';
import { WasmService } from './wasm/wasm.service';
import { WasmStore } from './wasm/wasm.store';
import { XdsService } from './xds/xds.service';

/** Credentials are never logged: the admin token travels only in Authorization. */
const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie'];

@Module({})
export class AppModule {
  static forRoot(config: ControlPlaneConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            serializers: {
              req: (req: { id: unknown; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: req.url,
              }),
            },
            autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
          },
        }),
        typeOrmRootModule({
          options: typeOrmOptions(config),
          migrationLockId: MIGRATION_LOCK,
          connectMaxAttempts: config.DB_CONNECT_MAX_ATTEMPTS,
          connectRetryDelayMs: config.DB_CONNECT_RETRY_DELAY_MS,
        }),
        TerminusModule,
      ],
      controllers: [
        RoutesController,
        UpstreamsController,
        WasmController,
        NodesController,
        HealthController,
        MetricsController,
      ],
      providers: [
        { provide: CONTROL_PLANE_CONFIG, useValue: config },
        {
          provide: LOGGER,
          useValue: pino({ level: config.LOG_LEVEL, base: { service: 'control-plane' } }),
        },
        { provide: Registry, useValue: new Registry() },
        { provide: SnapshotCache, useValue: new SnapshotCache() },
        AdminTokenGuard,
        ControlPlaneMetrics,
        TopologyService,
        WasmStore,
        SnapshotsService,
        RoutesService,
        UpstreamsService,
        WasmService,
        XdsService,
      ],
    };
  }
}
