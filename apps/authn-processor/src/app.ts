import 'reflect-metadata';
import { type INestMicroservice } from '@nestjs/common';
import { createExtProcMicroservice } from '@edge/processor-core/nest';
import { AppModule } from './app.module';
import { type AuthnProcessorConfig } from './config/authn-processor.config';
import { ExtProcLifecycle } from './ext-proc/ext-proc-lifecycle.service';
import { readAuthTls } from './tls/auth-tls';

/**
 * Builds and starts the app (used by main.ts and by tests): a standalone Nest microservice
 * served by processor-core's ExtProcTransport (ext_proc gRPC, no HTTP server). `listen()` runs
 * the bootstrap hooks (auth client, key watcher, metrics endpoint) before the ext_proc server
 * accepts streams; `close()` / SIGTERM drain the ext_proc streams before the shutdown hooks
 * close the auth gRPC client.
 */
export async function createAuthnProcessorApp(
  config: AuthnProcessorConfig,
): Promise<INestMicroservice> {
  // Read once, before anything connects: an unreadable or wrong file is a ConfigError.
  const tls = readAuthTls(config);
  const app = await createExtProcMicroservice(AppModule.forRoot(config, tls), {
    // Throw instead of exiting the process: main.ts reports and exits, tests see the error.
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
