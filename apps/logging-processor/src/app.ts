import 'reflect-metadata';
import { type INestMicroservice } from '@nestjs/common';
import { createExtProcMicroservice } from '@edge/processor-core/nest';
import { AppModule } from './app.module';
import { type LoggingProcessorConfig } from './config/logging-processor.config';
import { HealthServer } from './health/health-server.service';
import { LOGGER, type Logger } from './logging/logger';

/**
 * Builds and starts the app (main.ts and tests): a standalone Nest microservice served by
 * processor-core's ExtProcTransport. Shutdown: ext_proc streams drain, then the publisher
 * flushes its buffer to Kafka, then the producer disconnects.
 */
export async function createLoggingProcessorApp(
  config: LoggingProcessorConfig,
  logger?: Logger,
): Promise<INestMicroservice> {
  const app = await createExtProcMicroservice(AppModule.forRoot(config, logger), {
    abortOnError: false,
    logger:
      config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? undefined : ['error', 'warn'],
  });
  app.enableShutdownHooks();
  try {
    await app.listen();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const log = app.get<Logger>(LOGGER);
  log.info(
    {
      event: 'started',
      grpc_port: config.GRPC_PORT,
      metrics_port: app.get(HealthServer).port,
      topic: config.KAFKA_TOPIC,
    },
    'logging-processor listening',
  );
  return app;
}
