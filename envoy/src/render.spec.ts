import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderEnvoyConfig, renderTemplate } from './render';

describe('renderTemplate', () => {
  it('fills every placeholder', () => {
    expect(renderTemplate('a: {{A}}\nb: {{B}}', { A: 1, B: 'x' })).toBe('a: 1\nb: x');
  });
  it('refuses missing and unknown values', () => {
    expect(() => renderTemplate('a: {{A}}', {})).toThrow(/missing values for \[A\]/);
    expect(() => renderTemplate('a: 1', { B: 2 })).toThrow(/unknown \[B\]/);
  });
});

describe('front-proxy.yaml', () => {
  const yaml = renderEnvoyConfig('front-proxy', {
    LISTEN_HOST: '127.0.0.1',
    FRONT_PROXY_PORT: 8080,
    ADMIN_PORT: 9901,
    ECHO_PORT: 7100,
    AUTHN_PROCESSOR_PORT: 9001,
    LOGGING_PROCESSOR_PORT: 9002,
    LOGGING_DISABLED: false,
    LOGGING_OBSERVABILITY_MODE: true,
    CONSUMER_PORT: 7200,
  });
  const doc = parse(yaml) as {
    static_resources: { listeners: { filter_chains: { filters: { typed_config: any }[] }[] }[] };
  };
  const hcm = doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;

  it('is valid YAML with no placeholders left', () => {
    expect(yaml).not.toMatch(/\{\{/);
  });

  it('runs logging first (never blocking), then authn fail-closed, headers-only, before the router', () => {
    const names = hcm.http_filters.map((f: { name: string }) => f.name);
    expect(names).toEqual([
      'envoy.filters.http.ext_proc.logging',
      'envoy.filters.http.ext_proc.authn',
      'envoy.filters.http.router',
    ]);
    const logging = hcm.http_filters[0];
    expect(logging.disabled).toBe(false);
    expect(logging.typed_config.failure_mode_allow).toBe(true);
    expect(logging.typed_config.observability_mode).toBe(true);
    expect(logging.typed_config.metadata_options.forwarding_namespaces.untyped).toEqual([
      'edge.authn',
    ]);
    expect(logging.typed_config.processing_mode).toMatchObject({
      request_header_mode: 'SEND',
      response_header_mode: 'SEND',
      request_body_mode: 'NONE',
      response_body_mode: 'NONE',
    });
    const authn = hcm.http_filters[1].typed_config;
    expect(authn.failure_mode_allow).toBe(false);
    expect(authn.processing_mode).toMatchObject({
      request_header_mode: 'SEND',
      response_header_mode: 'SKIP',
      request_body_mode: 'NONE',
      response_body_mode: 'NONE',
    });
  });

  it('keeps the admin interface on loopback', () => {
    expect(parse(yaml).admin.address.socket_address.address).toBe('127.0.0.1');
  });
});
