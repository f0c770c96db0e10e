import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { type HeaderProviderConfig } from './config/header-provider.config';
import { createLogger, type Logger } from './logging/logger';

/** Builds the header provider (used by main.ts and the tests). */
export async function createHeaderProviderApp(
  config: HeaderProviderConfig,
  logger: Logger = createLogger(config.LOG_LEVEL),
): Promise<NestFastifyApplication> {
  // GET only: no request body is ever read.
  const adapter = new FastifyAdapter({ bodyLimit: 1024, logger: false });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, logger),
    adapter,
    { logger: ['error', 'warn'] },
  );
  app.enableShutdownHooks();
  return app;
}
