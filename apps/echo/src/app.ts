import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { type EchoConfig } from './config/echo.config';

/** Builds the echo app (used by main.ts and by the tests). */
export async function createEchoApp(config: EchoConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    logger: false,
  });
  // Echo any body as text: JSON, forms and binary alike. Broken JSON is echoed, not rejected.
  const fastify = adapter.getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    // Nest's own JSON parser would reject broken JSON; the echo keeps every body as text.
    bodyParser: false,
    logger:
      config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? undefined : ['error', 'warn'],
  });
  app.enableShutdownHooks();
  return app;
}
