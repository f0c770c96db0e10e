import { createAuthnProcessorApp } from './app';
import { loadAuthnProcessorConfig } from './config/authn-processor.config';

async function main(): Promise<void> {
  const config = loadAuthnProcessorConfig();
  await createAuthnProcessorApp(config);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
