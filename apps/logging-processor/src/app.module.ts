import { type DynamicModule, Module } from '@nestjs/common';
import { type Logger } from '@edge/processor-core';
import { ExtProcModule } from '@edge/processor-core/nest';
import { Registry } from 'prom-client';
import { AccessLogModule } from './access-log/access-log.module';
import { AccessLogProcessor } from './access-log/access-log.processor';
import { Clock } from './common/clock';
import {
  LOGGING_PROCESSOR_CONFIG,
  type LoggingProcessorConfig,
} from './config/logging-processor.config';
import { HealthServer } from './health/health-server.service';
import { createLogger, LOGGER } from './logging/logger';

@Module({})
export class AppModule {
  static forRoot(config: LoggingProcessorConfig, logger?: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        AccessLogModule,
        ExtProcModule.forRootAsync({
          processors: [AccessLogProcessor],
          imports: [AccessLogModule],
          inject: [LOGGING_PROCESSOR_CONFIG, LOGGER, Registry],
          useFactory: (c: LoggingProcessorConfig, l: Logger, registry: Registry) => ({
            host: c.GRPC_HOST,
            port: c.GRPC_PORT,
            logger: l,
            metrics: { registry },
            // Logging never fails a request.
            errorPolicy: 'continue' as const,
            // Many short streams at once in observability mode (Envoy closes them late).
            maxConcurrentStreams: 16_384,
          }),
        }),
      ],
      providers: [
        { provide: LOGGING_PROCESSOR_CONFIG, useValue: config },
        { provide: LOGGER, useFactory: () => logger ?? createLogger(config.LOG_LEVEL) },
        { provide: Registry, useFactory: () => new Registry() },
        Clock,
        HealthServer,
      ],
      exports: [LOGGING_PROCESSOR_CONFIG, LOGGER, Registry, Clock],
    };
  }
}
