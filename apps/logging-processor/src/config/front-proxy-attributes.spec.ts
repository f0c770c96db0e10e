import { renderEnvoyConfig, FRONT_PROXY_DEFAULTS } from '@edge/envoy-config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadLoggingProcessorConfig } from './logging-processor.config';

/**
 * The front proxy asks Envoy for the logged request headers as response attributes; the list
 * there must be this processor's default LOG_REQUEST_HEADERS (a header Envoy is not asked for
 * never reaches the record; one the processor does not keep is sent for nothing).
 */
describe('envoy/front-proxy.yaml and LOG_REQUEST_HEADERS', () => {
  it('ask Envoy for exactly the request headers the processor keeps by default', () => {
    const yaml = renderEnvoyConfig('front-proxy', {
      ...FRONT_PROXY_DEFAULTS,
      LISTEN_HOST: '127.0.0.1',
      FRONT_PROXY_PORT: 8080,
      ADMIN_PORT: 9901,
      ECHO_PORT: 7100,
      AUTHN_PROCESSOR_PORT: 9001,
      IDEMPOTENCY_PROCESSOR_PORT: 9002,
      LOGGING_PROCESSOR_PORT: 9003,
      LOGGING_ACCESS_LOG_PORT: 9203,
      LOGGING_DISABLED: false,
      LOGGING_OBSERVABILITY_MODE: true,
      CONSUMER_PORT: 7300,
    });
    const logging = findFilter(parse(yaml), 'envoy.filters.http.ext_proc.logging');
    expect(logging).toBeDefined();
    const asked = (logging!.typed_config.response_attributes as string[])
      .map((a) => /^request\.headers\['([^']+)'\]$/.exec(a)?.[1])
      .filter((h): h is string => h !== undefined);
    expect([...asked].sort()).toEqual(
      [...loadLoggingProcessorConfig({}).LOG_REQUEST_HEADERS].sort(),
    );
  });
});

interface Filter {
  name: string;
  typed_config: Record<string, unknown>;
}

function findFilter(node: unknown, name: string): Filter | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const f = findFilter(n, name);
      if (f !== undefined) return f;
    }
  } else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.name === name && typeof o.typed_config === 'object') return o as unknown as Filter;
    for (const k in o) {
      const f = findFilter(o[k], name);
      if (f !== undefined) return f;
    }
  }
  return undefined;
}
