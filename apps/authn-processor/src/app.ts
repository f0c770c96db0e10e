import 'reflect-metadata';
import { type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { type AuthnProcessorConfig } from './config/authn-processor.config';

/** Builds and starts the app (used by main.ts and by tests): ext_proc gRPC, no HTTP server. */
export async function createAuthnProcessorApp(
  config: AuthnProcessorConfig,
): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    // Throw instead of exiting the process: main.ts reports and exits, tests see the error.
    abortOnError: false,
    logger:
      config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? undefined : ['error', 'warn'],
  });
  app.enableShutdownHooks();
  return app;
}
