// The dev stack's infrastructure: stable names (data kept in .local/dev/<name>) and fixed ports.
// Runs until Ctrl-C / SIGTERM, then stops everything cleanly. `pnpm --filter @edge/testkit dev`.
import { localBackend } from '../local';
import { runUntilSignal, stopAll } from '../run-until-signal';
import type { InfraBackend, Started } from '../types';

interface DevPart {
  name: string;
  start(backend: InfraBackend): Promise<Started<unknown>>;
  describe(info: unknown): string;
}

/** Every part of the dev stack. Adding one is one entry here. */
const DEV_PARTS: DevPart[] = [
  {
    name: 'dev-postgres',
    start: (b) => b.postgres({ name: 'dev-postgres', persistent: true, port: 55432 }),
    describe: (i) => (i as { url: string }).url,
  },
  {
    name: 'dev-redis',
    start: (b) => b.redis({ name: 'dev-redis', persistent: true, port: 56379 }),
    describe: (i) => (i as { url: string }).url,
  },
  {
    name: 'dev-kafka',
    start: (b) =>
      b.kafka({ name: 'dev-kafka', persistent: true, port: 59092, controllerPort: 59093 }),
    describe: (i) => (i as { brokers: string[] }).brokers.join(','),
  },
];

async function main(): Promise<void> {
  const backend = localBackend();
  const started: Started<unknown>[] = [];
  try {
    // One at a time: parallel JVM + initdb start-up on 2 cores is no faster.
    for (const part of DEV_PARTS) {
      const t0 = Date.now();
      const s = await part.start(backend);
      started.push(s);
      console.log(
        `[dev-infra] ${part.name} ready in ${Date.now() - t0} ms: ${part.describe(s.info)}`,
      );
    }
  } catch (err) {
    await stopAll(started).catch(() => undefined);
    throw err;
  }
  console.log('[dev-infra] all parts running; Ctrl-C to stop');
  const signal = await runUntilSignal(started);
  console.log(`[dev-infra] ${signal}: stopped cleanly`);
}

main().catch((err: unknown) => {
  console.error('[dev-infra] failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
