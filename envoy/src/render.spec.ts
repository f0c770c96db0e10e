import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FRONT_PROXY_DEFAULTS, renderEnvoyConfig, renderTemplate } from './render';

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
  });
  const doc = parse(yaml) as {
    static_resources: { listeners: { filter_chains: { filters: { typed_config: any }[] }[] }[] };
  };
  const hcm = doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;

  it('is valid YAML with no placeholders left', () => {
    expect(yaml).not.toMatch(/\{\{/);
  });

  it('runs authn as a fail-closed, headers-only ext_proc filter before the router', () => {
    const names = hcm.http_filters.map((f: { name: string }) => f.name);
    expect(names).toEqual([
      'envoy.filters.http.local_ratelimit',
      'envoy.filters.http.ext_proc.authn',
      'envoy.filters.http.router',
    ]);
    const authn = hcm.http_filters[1].typed_config;
    expect(authn.failure_mode_allow).toBe(false);
    expect(authn.processing_mode).toMatchObject({
      request_header_mode: 'SEND',
      response_header_mode: 'SKIP',
      request_body_mode: 'NONE',
      response_body_mode: 'NONE',
    });
  });

  it('normalises paths and never forwards dynamic metadata as route policy', () => {
    expect(hcm).toMatchObject({
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: 'REJECT_REQUEST',
    });
    expect(hcm.http_filters[1].typed_config.metadata_options.forwarding_namespaces).toBeUndefined();
    expect(hcm.http_filters[1].typed_config.request_attributes).toEqual(['xds.route_metadata']);
  });

  it('renders the per-client rate limit from its defaults, or from the given values', () => {
    const bucket = (y: string) =>
      (parse(y) as typeof doc).static_resources.listeners[0]!.filter_chains[0]!.filters[0]!
        .typed_config.http_filters[0].typed_config.descriptors[0].token_bucket;
    expect(bucket(yaml)).toMatchObject({
      max_tokens: FRONT_PROXY_DEFAULTS.PER_CLIENT_BURST,
      tokens_per_fill: FRONT_PROXY_DEFAULTS.PER_CLIENT_RPS,
    });
    const low = renderEnvoyConfig('front-proxy', {
      LISTEN_HOST: '127.0.0.1',
      FRONT_PROXY_PORT: 8080,
      ADMIN_PORT: 9901,
      ECHO_PORT: 7100,
      AUTHN_PROCESSOR_PORT: 9001,
      PER_CLIENT_RPS: 2,
      PER_CLIENT_BURST: 3,
    });
    expect(bucket(low)).toMatchObject({ max_tokens: 3, tokens_per_fill: 2 });
  });

  it('keeps the admin interface on loopback', () => {
    expect(parse(yaml).admin.address.socket_address.address).toBe('127.0.0.1');
  });
});
