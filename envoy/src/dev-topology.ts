// The dev stack's topology: its two Envoys (front proxy, echo's sidecar), their ports, and where
// the control plane and the xDS PKI live. The control plane serves these nodes; the dev CLIs
// start the Envoys with bootstraps pointing at it.
import { headerFilterWasmPath } from '@edge/header-filter-wasm';
import { join } from 'node:path';
import { headerFilterConfigValue, SIDECAR_HEADER_FILTER } from './render';
import { type TopologyNode } from './topology';

export const DEV_SIDECAR_PORTS = {
  SIDECAR_PORT: 7110,
  ADMIN_PORT: 9902,
  APP_PORT: 7100,
  HEADER_PROVIDER_PORT: 7200,
} as const;

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

/** The control plane of the dev stack: xDS (gRPC, mTLS) and its admin HTTP API. */
export const DEV_CONTROL_PLANE = { XDS_PORT: 18000, ADMIN_PORT: 7400 } as const;

/** Below the header provider's TOKEN_MIN_REMAINING_SECONDS (60): a cached token never expires. */
export const DEV_HEADER_CACHE_EXPIRY = '30s';

/** Node ids of the dev stack (also the CNs of their client certificates). */
export const DEV_NODE_IDS = { frontProxy: 'front-proxy', sidecar: 'echo-sidecar' } as const;

/** `<repo>/.local/dev/xds-pki`: the dev stack's CA and certificates (created on first start). */
export const DEV_XDS_PKI_DIR = join(__dirname, '..', '..', '.local', 'dev', 'xds-pki');

export function devTopology(): TopologyNode[] {
  return [
    {
      id: DEV_NODE_IDS.frontProxy,
      cluster: 'front-proxy',
      config: 'front-proxy',
      vars: {
        LISTEN_HOST: '127.0.0.1',
        ...DEV_PORTS,
        LOGGING_DISABLED: false,
        LOGGING_OBSERVABILITY_MODE: true,
      },
    },
    {
      id: DEV_NODE_IDS.sidecar,
      cluster: 'echo',
      config: 'sidecar',
      vars: {
        LISTEN_HOST: '127.0.0.1',
        ...DEV_SIDECAR_PORTS,
        HEADER_FILTER_WASM: headerFilterWasmPath(),
        HEADER_FILTER_CONFIG: headerFilterConfigValue({
          ...SIDECAR_HEADER_FILTER,
          header_cache_expiry: DEV_HEADER_CACHE_EXPIRY,
        }),
      },
    },
  ];
}
