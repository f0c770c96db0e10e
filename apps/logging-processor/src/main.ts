import { createLoggingProcessorApp } from './app';
import { loadLoggingProcessorConfig } from './config/logging-processor.config';
import { createLogger, routeProcessWarnings } from './logging/logger';

async function main(): Promise<void> {
  const config = loadLoggingProcessorConfig();
  const logger = createLogger(config.LOG_LEVEL);
  routeProcessWarnings(logger);
  await createLoggingProcessorApp(config, logger);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
