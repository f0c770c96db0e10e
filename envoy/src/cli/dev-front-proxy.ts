// The dev stack's front proxy: the real Envoy on :8080 (admin on 127.0.0.1:9901), configured by the
// control plane (node `front-proxy`, apps/control-plane on :18000) from envoy/front-proxy.yaml,
// routing to echo's sidecar (dev-sidecar.ts, started here too) and the processors.
import { runUntilSignal } from '@edge/testkit';
import { DEV_NODE_IDS, DEV_PORTS } from '../dev-topology';
import { startDevSidecar } from './dev-sidecar';
import { startDevXdsEnvoy } from './dev-xds';

export { DEV_PORTS } from '../dev-topology';

async function main(): Promise<void> {
  const sidecar = await startDevSidecar();
  const envoy = await startDevXdsEnvoy({
    nodeId: DEV_NODE_IDS.frontProxy,
    name: 'dev-front-proxy',
    adminPort: DEV_PORTS.ADMIN_PORT,
    readyPorts: [DEV_PORTS.FRONT_PROXY_PORT],
  }).catch(async (err: unknown) => {
    await sidecar.stop();
    throw err;
  });
  console.log(
    `[front-proxy] Envoy on http://127.0.0.1:${DEV_PORTS.FRONT_PROXY_PORT} (admin :${DEV_PORTS.ADMIN_PORT}; config from the control plane)`,
  );
  await runUntilSignal([envoy, sidecar]);
}

main().catch((err: unknown) => {
  console.error('[front-proxy] failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
