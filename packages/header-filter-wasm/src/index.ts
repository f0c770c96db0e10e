// The Node side of the header filter: where the built module is and how its configuration looks.
// The filter itself is AssemblyScript in assembly/ (compiled by `asc` to dist/header-filter.wasm).
import { join } from 'node:path';

/**
 * The filter's plugin configuration. The first four keys and their defaults are the filter's
 * contract; the rest are optional.
 */
export interface HeaderFilterConfig {
  /** Envoy cluster of the header provider. Default `sidecar`. */
  header_providing_service_cluster?: string;
  /** `:authority` of the fetch. Default `sidecar`. */
  header_providing_service_authority?: string;
  /** Path of the fetch. Default `/headers`. */
  header_providing_service_path?: string;
  /** How often the headers are renewed (and how long they stay valid). Default `360s`. */
  header_cache_expiry?: string;
  /** Timeout of one fetch. Default `5s`, at most half the expiry unless set. */
  header_providing_service_timeout?: string;
  /** Without valid headers, answer a JSON 503 instead of passing the request unchanged. */
  fail_closed?: boolean;
  /** Test only: a request carrying this header traps the VM (exercises the failure policy). */
  debug_trap_on_header?: string;
}

export const HEADER_FILTER_DEFAULTS = {
  header_providing_service_cluster: 'sidecar',
  header_providing_service_authority: 'sidecar',
  header_providing_service_path: '/headers',
  header_cache_expiry: '360s',
} as const satisfies HeaderFilterConfig;

/** Absolute path of the built module (run `turbo run build` first). */
export function headerFilterWasmPath(): string {
  return join(__dirname, '..', 'dist', 'header-filter.wasm');
}

/**
 * Where the `edge/envoy` image holds the built module (deploy/docker/envoy.Dockerfile): a sidecar
 * Envoy run from that image (compose, Helm, the testcontainers backend) loads it from here.
 */
export const HEADER_FILTER_WASM_IMAGE_PATH = '/etc/envoy/header-filter.wasm';
