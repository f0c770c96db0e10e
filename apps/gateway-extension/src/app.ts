import 'reflect-metadata';
import { type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { type GatewayExtensionConfig } from './config/gateway-extension.config';
import { ExtensionServer } from './extension/extension.server';
import { HealthServer } from './health/health-server.service';
import { LOGGER, type Logger } from './logging/logger';

/**
 * Builds and starts the app (main.ts and tests): a Nest application context whose providers
 * own the gRPC extension service and the health/metrics listener. Shutdown (SIGTERM/SIGINT via
 * enableShutdownHooks, or close()): the gRPC server stops taking calls and drains, then the
 * HTTP listener closes.
 */
export async function createGatewayExtensionApp(
  config: GatewayExtensionConfig,
  logger?: Logger,
): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, logger), {
    abortOnError: false,
    logger:
      config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? undefined : ['error', 'warn'],
  });
  app.enableShutdownHooks();
  try {
    await app.init();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  app.get<Logger>(LOGGER).info(
    {
      event: 'started',
      grpc_port: app.get(ExtensionServer).port,
      metrics_port: app.get(HealthServer).port,
      authn_cluster: config.AUTHN_CLUSTER_NAME,
    },
    'gateway-extension listening',
  );
  return app;
}
