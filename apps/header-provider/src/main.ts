import { createHeaderProviderApp } from './app';
import { loadHeaderProviderConfig } from './config/header-provider.config';
import { createLogger } from './logging/logger';

async function main(): Promise<void> {
  const config = loadHeaderProviderConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const app = await createHeaderProviderApp(config, logger);
  await app.listen(config.PORT, config.HOST);
  logger.info({ host: config.HOST, port: config.PORT }, 'header provider listening');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
