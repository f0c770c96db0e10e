import 'reflect-metadata';
import { type INestMicroservice } from '@nestjs/common';
import { createExtProcMicroservice } from '@edge/processor-core/nest';
import { AppModule } from './app.module';
import { type IdempotencyProcessorConfig } from './config/idempotency-processor.config';
import { ExtProcLifecycle } from './ext-proc/ext-proc-lifecycle.service';

/**
 * Builds and starts the app (main.ts and tests): a standalone Nest microservice served by
 * processor-core's ExtProcTransport. `close()` / SIGTERM drain the ext_proc streams, then Redis
 * closes.
 */
export async function createIdempotencyProcessorApp(
  config: IdempotencyProcessorConfig,
): Promise<INestMicroservice> {
  const app = await createExtProcMicroservice(AppModule.forRoot(config), {
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
  app.get(ExtProcLifecycle).logStarted();
  return app;
}
