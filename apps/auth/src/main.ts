import { loadAuthConfig } from './config/config';
import { startApp } from './bootstrap';

async function main(): Promise<void> {
  const config = loadAuthConfig();
  await startApp(config);
}

main().catch((err: unknown) => {
  // Config errors list every bad variable (never their values); anything else: message only.
  process.stderr.write(
    `auth: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
