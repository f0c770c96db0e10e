// The dev stack's sidecar: echo's Envoy on :7110 (admin on 127.0.0.1:9902), configured by the
// control plane (node `echo-sidecar`): the Wasm header filter (over ECDS) fetching the header
// provider on :7200 every 30 s. The front proxy routes to it (dev-front-proxy.ts starts both).
import { type EnvoyInfo, type Started } from '@edge/testkit';
import { DEV_NODE_IDS, DEV_SIDECAR_PORTS } from '../dev-topology';
import { startDevXdsEnvoy } from './dev-xds';

export { DEV_HEADER_CACHE_EXPIRY, DEV_SIDECAR_PORTS } from '../dev-topology';

export async function startDevSidecar(): Promise<Started<EnvoyInfo>> {
  const envoy = await startDevXdsEnvoy({
    nodeId: DEV_NODE_IDS.sidecar,
    name: 'dev-sidecar',
    adminPort: DEV_SIDECAR_PORTS.ADMIN_PORT,
    readyPorts: [DEV_SIDECAR_PORTS.SIDECAR_PORT],
  });
  console.log(
    `[sidecar] Envoy on http://127.0.0.1:${DEV_SIDECAR_PORTS.SIDECAR_PORT} → echo :${DEV_SIDECAR_PORTS.APP_PORT}, headers from :${DEV_SIDECAR_PORTS.HEADER_PROVIDER_PORT} (admin :${DEV_SIDECAR_PORTS.ADMIN_PORT}; config from the control plane)`,
  );
  return envoy;
}
