import { createIdempotencyProcessorApp } from './app';
import { loadIdempotencyProcessorConfig } from './config/idempotency-processor.config';

async function main(): Promise<void> {
  const config = loadIdempotencyProcessorConfig();
  await createIdempotencyProcessorApp(config);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
