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
  /** Upstream hosts (IP or DNS name); default 127.0.0.1. Kubernetes passes service names. */
  ECHO_HOST?: string;
  AUTHN_PROCESSOR_HOST?: string;
};

interface VarsByConfig {
  'front-proxy': FrontProxyVars;
}

/** Values a config falls back to when the caller leaves them out (the local stack's). */
const DEFAULTS: { [N in EnvoyConfigName]: Partial<VarsByConfig[N]> } = {
  'front-proxy': { ECHO_HOST: '127.0.0.1', AUTHN_PROCESSOR_HOST: '127.0.0.1' },
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

/** Renders a shipped Envoy config with its values. */
export function renderEnvoyConfig<N extends EnvoyConfigName>(
  name: N,
  vars: VarsByConfig[N],
): string {
  return renderTemplate(readFileSync(envoyConfigPath(name), 'utf8'), {
    ...DEFAULTS[name],
    ...vars,
  });
}
