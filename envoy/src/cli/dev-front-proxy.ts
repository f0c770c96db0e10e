// The dev stack's front proxy: the real Envoy with envoy/front-proxy.yaml on :8080 (admin on
// 127.0.0.1:9901), routing to echo's sidecar (dev-sidecar.ts, started here too) and the authn
// processor.
import { localBackend, runUntilSignal } from '@edge/testkit';
import { renderEnvoyConfig } from '../render';
import { DEV_SIDECAR_PORTS, startDevSidecar } from './dev-sidecar';

export const DEV_PORTS = {
  FRONT_PROXY_PORT: 8080,
  ADMIN_PORT: 9901,
  // The front proxy's echo cluster is echo's sidecar Envoy.
  ECHO_PORT: DEV_SIDECAR_PORTS.SIDECAR_PORT,
  AUTHN_PROCESSOR_PORT: 9001,
  IDEMPOTENCY_PROCESSOR_PORT: 9002,
  LOGGING_PROCESSOR_PORT: 9003,
  LOGGING_ACCESS_LOG_PORT: 9203,
  CONSUMER_PORT: 7300,
} as const;

async function main(): Promise<void> {
  const configYaml = renderEnvoyConfig('front-proxy', {
    LISTEN_HOST: '127.0.0.1',
    ...DEV_PORTS,
    LOGGING_DISABLED: false,
    LOGGING_OBSERVABILITY_MODE: true,
  });
  const sidecar = await startDevSidecar();
  const envoy = await localBackend()
    .envoy({
      name: 'dev-front-proxy',
      configYaml,
      adminPort: DEV_PORTS.ADMIN_PORT,
      readyPorts: [DEV_PORTS.FRONT_PROXY_PORT],
      logLevel: 'warn',
    })
    .catch(async (err: unknown) => {
      await sidecar.stop();
      throw err;
    });
  console.log(
    `[front-proxy] Envoy on http://127.0.0.1:${DEV_PORTS.FRONT_PROXY_PORT} (admin :${DEV_PORTS.ADMIN_PORT})`,
  );
  await runUntilSignal([envoy, sidecar]);
}

main().catch((err: unknown) => {
  console.error('[front-proxy] failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
