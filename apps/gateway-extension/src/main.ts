import { createGatewayExtensionApp } from './app';
import { loadGatewayExtensionConfig } from './config/gateway-extension.config';
import { createLogger } from './logging/logger';

async function main(): Promise<void> {
  const config = loadGatewayExtensionConfig();
  await createGatewayExtensionApp(config, createLogger(config.LOG_LEVEL));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
