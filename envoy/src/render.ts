import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HeaderFilterConfig } from '@edge/header-filter-wasm';

/** The Envoy configs this package ships (files at the package root). */
export type EnvoyConfigName = 'front-proxy' | 'sidecar';

export type FrontProxyVars = {
  LISTEN_HOST: string;
  FRONT_PROXY_PORT: number;
  ADMIN_PORT: number;
  ECHO_PORT: number;
  AUTHN_PROCESSOR_PORT: number;
  IDEMPOTENCY_PROCESSOR_PORT: number;
  LOGGING_PROCESSOR_PORT: number;
  /** The logging processor's gRPC access log service (audit records of local replies). */
  LOGGING_ACCESS_LOG_PORT: number;
  /** `true` leaves the logging filter out of the chain (benchmarks of authn alone). */
  LOGGING_DISABLED: boolean;
  /** `true`: Envoy sends to the logging processor without waiting for its answers. */
  LOGGING_OBSERVABILITY_MODE: boolean;
  CONSUMER_PORT: number;
  /** Per-client (per source address) rate limit: requests per second refilled. */
  PER_CLIENT_RPS?: number;
  /** Per-client bucket size: the burst a client may send at once. */
  PER_CLIENT_BURST?: number;
  /** Upstream hosts (IP or DNS name); default 127.0.0.1. Kubernetes passes Service names. */
  ECHO_HOST?: string;
  AUTHN_PROCESSOR_HOST?: string;
  IDEMPOTENCY_PROCESSOR_HOST?: string;
  /** The logging processor's host: both its ext_proc and its access-log service. */
  LOGGING_PROCESSOR_HOST?: string;
  CONSUMER_HOST?: string;
};

/** A workload's sidecar: inbound listener → Wasm header filter → the app (see sidecar.yaml). */
export type SidecarVars = {
  LISTEN_HOST: string;
  SIDECAR_PORT: number;
  ADMIN_PORT: number;
  APP_PORT: number;
  HEADER_PROVIDER_PORT: number;
  /** The header provider's host (IP or DNS name); default 127.0.0.1. */
  HEADER_PROVIDER_HOST?: string;
  /** Absolute path of the built filter (`headerFilterWasmPath()` of @edge/header-filter-wasm). */
  HEADER_FILTER_WASM: string;
  /** The filter's plugin configuration as a YAML scalar: use `headerFilterConfigValue()`. */
  HEADER_FILTER_CONFIG: string;
};

/**
 * Values a caller may leave out. The per-client limit is generous for one client address
 * (1000 req/s, bursts of 2000): it bounds a single abusive address without touching normal use.
 * Load tests from one address raise it; tests of the limit lower it.
 */
export const FRONT_PROXY_DEFAULTS = {
  PER_CLIENT_RPS: 1000,
  PER_CLIENT_BURST: 2000,
  ECHO_HOST: '127.0.0.1',
  AUTHN_PROCESSOR_HOST: '127.0.0.1',
  IDEMPOTENCY_PROCESSOR_HOST: '127.0.0.1',
  LOGGING_PROCESSOR_HOST: '127.0.0.1',
  CONSUMER_HOST: '127.0.0.1',
} as const satisfies Partial<FrontProxyVars>;

interface VarsByConfig {
  'front-proxy': FrontProxyVars;
  sidecar: SidecarVars;
}

const DEFAULTS: { [N in EnvoyConfigName]: Partial<VarsByConfig[N]> } = {
  'front-proxy': FRONT_PROXY_DEFAULTS,
  sidecar: { HEADER_PROVIDER_HOST: '127.0.0.1' },
};

const PLACEHOLDER = /\{\{([A-Z0-9_]+)\}\}/g;

/** Fills `{{NAME}}` placeholders. Every placeholder must have a value; extras are an error too. */
export function renderTemplate(
  template: string,
  vars: Record<string, string | number | boolean>,
): string {
  const used = new Set<string>();
  const missing = new Set<string>();
  const out = template.replace(PLACEHOLDER, (_m, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    used.add(name);
    return String(value);
  });
  const unused = Object.keys(vars).filter((k) => !used.has(k));
  if (missing.size > 0 || unused.length > 0) {
    throw new Error(
      `envoy config: missing values for [${[...missing].join(', ')}], unknown [${unused.join(', ')}]`,
    );
  }
  return out;
}

/** Path of a shipped config template. */
export function envoyConfigPath(name: EnvoyConfigName): string {
  return join(__dirname, '..', `${name}.yaml`);
}

/** Renders a shipped Envoy config with its values (optional ones from its defaults). */
export function renderEnvoyConfig<N extends EnvoyConfigName>(
  name: N,
  vars: VarsByConfig[N],
): string {
  const given = Object.fromEntries(
    Object.entries(vars).filter(([, v]) => v !== undefined),
  ) as Record<string, string | number>;
  return renderTemplate(readFileSync(envoyConfigPath(name), 'utf8'), {
    ...(DEFAULTS[name] as Record<string, string | number>),
    ...given,
  });
}

/**
 * The sidecar's filter configuration, as the YAML scalar sidecar.yaml expects: a JSON document
 * in a double-quoted string (a JSON string literal is a valid YAML double-quoted scalar).
 */
export function headerFilterConfigValue(config: HeaderFilterConfig): string {
  return JSON.stringify(JSON.stringify(config));
}

/** The sidecar's filter settings for its `header_provider` cluster; callers add the expiry. */
export const SIDECAR_HEADER_FILTER = {
  header_providing_service_cluster: 'header_provider',
  header_providing_service_authority: 'header-provider',
  header_providing_service_path: '/headers',
} as const satisfies HeaderFilterConfig;
