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
    expect(names).toEqual(['envoy.filters.http.ext_proc.authn', 'envoy.filters.http.router']);
    const authn = hcm.http_filters[0].typed_config;
    expect(authn.failure_mode_allow).toBe(false);
    expect(authn.processing_mode).toMatchObject({
      request_header_mode: 'SEND',
      response_header_mode: 'SKIP',
      request_body_mode: 'NONE',
      response_body_mode: 'NONE',
    });
  });

  it('sends upstream traffic to 127.0.0.1 unless hosts are given (Kubernetes service names)', () => {
    type Cluster = { name: string; type: string; load_assignment: any };
    const hostOf = (y: string, name: string) => {
      const clusters = (parse(y) as { static_resources: { clusters: Cluster[] } }).static_resources
        .clusters;
      const c = clusters.find((x) => x.name === name)!;
      expect(c.type).toBe('STRICT_DNS');
      return c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
        .address as string;
    };
    expect(hostOf(yaml, 'echo')).toBe('127.0.0.1');
    const k8s = renderEnvoyConfig('front-proxy', {
      LISTEN_HOST: '0.0.0.0',
      FRONT_PROXY_PORT: 8080,
      ADMIN_PORT: 9901,
      ECHO_PORT: 7100,
      AUTHN_PROCESSOR_PORT: 9001,
      ECHO_HOST: 'edge-echo.ns.svc',
      AUTHN_PROCESSOR_HOST: 'edge-authn-processor.ns.svc',
    });
    expect(hostOf(k8s, 'echo')).toBe('edge-echo.ns.svc');
    expect(hostOf(k8s, 'authn_processor')).toBe('edge-authn-processor.ns.svc');
  });

  it('keeps the admin interface on loopback', () => {
    expect(parse(yaml).admin.address.socket_address.address).toBe('127.0.0.1');
  });
});
