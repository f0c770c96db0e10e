import { startControlPlane } from './bootstrap';
import { loadControlPlaneConfig } from './config/control-plane.config';

async function main(): Promise<void> {
  const config = loadControlPlaneConfig();
  await startControlPlane(config);
}

main().catch((err: unknown) => {
  // Config errors list every bad variable (never their values); anything else: message only.
  process.stderr.write(
    `control-plane: failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
