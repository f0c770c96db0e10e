// The dev stack's sidecar: echo's Envoy with envoy/sidecar.yaml on :7110 (admin on
// 127.0.0.1:9902), the Wasm header filter fetching the header provider on :7200 every 30 s.
// The front proxy routes to it (dev-front-proxy.ts starts both).
import { headerFilterWasmPath } from '@edge/header-filter-wasm';
import { localBackend, type EnvoyInfo, type Started } from '@edge/testkit';
import { headerFilterConfigValue, renderEnvoyConfig, SIDECAR_HEADER_FILTER } from '../render';

export const DEV_SIDECAR_PORTS = {
  SIDECAR_PORT: 7110,
  ADMIN_PORT: 9902,
  APP_PORT: 7100,
  HEADER_PROVIDER_PORT: 7200,
} as const;

/** Below the header provider's TOKEN_MIN_REMAINING_SECONDS (60): a cached token never expires. */
export const DEV_HEADER_CACHE_EXPIRY = '30s';

export async function startDevSidecar(): Promise<Started<EnvoyInfo>> {
  const configYaml = renderEnvoyConfig('sidecar', {
    LISTEN_HOST: '127.0.0.1',
    ...DEV_SIDECAR_PORTS,
    HEADER_FILTER_WASM: headerFilterWasmPath(),
    HEADER_FILTER_CONFIG: headerFilterConfigValue({
      ...SIDECAR_HEADER_FILTER,
      header_cache_expiry: DEV_HEADER_CACHE_EXPIRY,
    }),
  });
  const envoy = await localBackend().envoy({
    name: 'dev-sidecar',
    configYaml,
    adminPort: DEV_SIDECAR_PORTS.ADMIN_PORT,
    readyPorts: [DEV_SIDECAR_PORTS.SIDECAR_PORT],
    logLevel: 'warn',
  });
  console.log(
    `[sidecar] Envoy on http://127.0.0.1:${DEV_SIDECAR_PORTS.SIDECAR_PORT} → echo :${DEV_SIDECAR_PORTS.APP_PORT}, headers from :${DEV_SIDECAR_PORTS.HEADER_PROVIDER_PORT} (admin :${DEV_SIDECAR_PORTS.ADMIN_PORT})`,
  );
  return envoy;
}
