import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Envoy configs this package ships (files at the package root). */
export type EnvoyConfigName = 'front-proxy';

export type FrontProxyVars = {
  LISTEN_HOST: string;
  FRONT_PROXY_PORT: number;
  ADMIN_PORT: number;
  ECHO_PORT: number;
  AUTHN_PROCESSOR_PORT: number;
  /** Per-client (per source address) rate limit: requests per second refilled. */
  PER_CLIENT_RPS?: number;
  /** Per-client bucket size: the burst a client may send at once. */
  PER_CLIENT_BURST?: number;
};

/**
 * Values a caller may leave out. The per-client limit is generous for one client address
 * (1000 req/s, bursts of 2000): it bounds a single abusive address without touching normal use.
 * Load tests from one address raise it; tests of the limit lower it.
 */
export const FRONT_PROXY_DEFAULTS = {
  PER_CLIENT_RPS: 1000,
  PER_CLIENT_BURST: 2000,
} as const satisfies Partial<FrontProxyVars>;

interface VarsByConfig {
  'front-proxy': FrontProxyVars;
}

const DEFAULTS: { [N in EnvoyConfigName]: Partial<VarsByConfig[N]> } = {
  'front-proxy': FRONT_PROXY_DEFAULTS,
};

const PLACEHOLDER = /\{\{([A-Z0-9_]+)\}\}/g;

/** Fills `{{NAME}}` placeholders. Every placeholder must have a value; extras are an error too. */
export function renderTemplate(template: string, vars: Record<string, string | number>): string {
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
