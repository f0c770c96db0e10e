import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  FRONT_PROXY_DEFAULTS,
  headerFilterConfigValue,
  renderEnvoyConfig,
  renderTemplate,
  SIDECAR_HEADER_FILTER,
} from './render';

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
    IDEMPOTENCY_PROCESSOR_PORT: 9002,
    LOGGING_PROCESSOR_PORT: 9003,
    LOGGING_ACCESS_LOG_PORT: 9203,
    LOGGING_DISABLED: false,
    LOGGING_OBSERVABILITY_MODE: true,
    CONSUMER_PORT: 7300,
  });
  const doc = parse(yaml) as {
    static_resources: { listeners: { filter_chains: { filters: { typed_config: any }[] }[] }[] };
  };
  const hcm = doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;

  it('is valid YAML with no placeholders left', () => {
    expect(yaml).not.toMatch(/\{\{/);
  });

  it('runs the rate limit, then logging (never blocking), then authn fail-closed, headers-only, before the router', () => {
    const names = hcm.http_filters.map((f: { name: string }) => f.name);
    expect(names).toEqual([
      'envoy.filters.http.local_ratelimit',
      'envoy.filters.http.ext_proc.logging',
      'envoy.filters.http.ext_proc.authn',
      'envoy.filters.http.ext_proc.idempotency',
      'envoy.filters.http.router',
    ]);
    const logging = hcm.http_filters[1];
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
    const authn = hcm.http_filters[2].typed_config;
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
    expect(hcm.http_filters[2].typed_config.metadata_options.forwarding_namespaces).toBeUndefined();
    expect(hcm.http_filters[2].typed_config.request_attributes).toEqual(['xds.route_metadata']);
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
      IDEMPOTENCY_PROCESSOR_PORT: 9002,
      LOGGING_PROCESSOR_PORT: 9003,
      LOGGING_ACCESS_LOG_PORT: 9203,
      LOGGING_DISABLED: false,
      LOGGING_OBSERVABILITY_MODE: true,
      CONSUMER_PORT: 7300,
      PER_CLIENT_RPS: 2,
      PER_CLIENT_BURST: 3,
    });
    expect(bucket(low)).toMatchObject({ max_tokens: 3, tokens_per_fill: 2 });
  });

  it('sends the access-log entries of local replies only to the logging processor (gRPC ALS)', () => {
    const als = hcm.access_log.find(
      (l: { name: string }) => l.name === 'envoy.access_loggers.http_grpc',
    );
    expect(als.typed_config.common_config.grpc_service.envoy_grpc.cluster_name).toBe(
      'logging_access_log',
    );
    expect(als.filter.extension_filter.typed_config.expression).toBe(
      "!false && response.code_details != 'via_upstream'",
    );
    const cluster = parse(yaml).static_resources.clusters.find(
      (c: { name: string }) => c.name === 'logging_access_log',
    );
    expect(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address).toEqual({
      socket_address: { address: '127.0.0.1', port_value: 9203 },
    });
  });

  it("lets the logging processor's cluster hold a stream per request for deferred_close_timeout", () => {
    const cluster = parse(yaml).static_resources.clusters.find(
      (c: { name: string }) => c.name === 'logging_processor',
    );
    // Envoy's default (1024 concurrent) would leave requests unlogged above ~1,000 requests/s.
    expect(cluster.circuit_breakers.thresholds[0].max_requests).toBeGreaterThanOrEqual(100_000);
  });

  it('keeps the admin interface on loopback', () => {
    expect(parse(yaml).admin.address.socket_address.address).toBe('127.0.0.1');
  });

  it('sends upstream traffic to 127.0.0.1 unless hosts are given (Kubernetes Service names)', () => {
    type Cluster = { name: string; type: string; load_assignment: any };
    const hostOf = (y: string, name: string) => {
      const clusters = (parse(y) as { static_resources: { clusters: Cluster[] } }).static_resources
        .clusters;
      const c = clusters.find((x) => x.name === name)!;
      expect(c.type).toBe('STRICT_DNS');
      return c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
        .address as string;
    };
    const clusters = [
      'echo',
      'authn_processor',
      'idempotency_processor',
      'logging_processor',
      'logging_access_log',
      'consumer',
    ];
    for (const c of clusters) expect(hostOf(yaml, c)).toBe('127.0.0.1');
    const k8s = renderEnvoyConfig('front-proxy', {
      LISTEN_HOST: '0.0.0.0',
      FRONT_PROXY_PORT: 8080,
      ADMIN_PORT: 9901,
      ECHO_PORT: 7110,
      AUTHN_PROCESSOR_PORT: 9001,
      IDEMPOTENCY_PROCESSOR_PORT: 9002,
      LOGGING_PROCESSOR_PORT: 9003,
      LOGGING_ACCESS_LOG_PORT: 9203,
      LOGGING_DISABLED: false,
      LOGGING_OBSERVABILITY_MODE: true,
      CONSUMER_PORT: 7300,
      ECHO_HOST: 'edge-echo.ns.svc',
      AUTHN_PROCESSOR_HOST: 'edge-authn-processor.ns.svc',
      IDEMPOTENCY_PROCESSOR_HOST: 'edge-idempotency-processor.ns.svc',
      LOGGING_PROCESSOR_HOST: 'edge-logging-processor.ns.svc',
      CONSUMER_HOST: 'edge-consumer.ns.svc',
    });
    expect(hostOf(k8s, 'echo')).toBe('edge-echo.ns.svc');
    expect(hostOf(k8s, 'authn_processor')).toBe('edge-authn-processor.ns.svc');
    expect(hostOf(k8s, 'idempotency_processor')).toBe('edge-idempotency-processor.ns.svc');
    expect(hostOf(k8s, 'logging_processor')).toBe('edge-logging-processor.ns.svc');
    expect(hostOf(k8s, 'logging_access_log')).toBe('edge-logging-processor.ns.svc');
    expect(hostOf(k8s, 'consumer')).toBe('edge-consumer.ns.svc');
  });

  it('runs idempotency after authn: smallest mode, overridable, identity forwarded', () => {
    const f = hcm.http_filters.find(
      (x: { name: string }) => x.name === 'envoy.filters.http.ext_proc.idempotency',
    ).typed_config;
    expect(f.failure_mode_allow).toBe(false);
    expect(f.allow_mode_override).toBe(true);
    expect(f.processing_mode).toMatchObject({
      request_header_mode: 'SEND',
      response_header_mode: 'SKIP',
      request_body_mode: 'NONE',
      response_body_mode: 'NONE',
    });
    expect(f.metadata_options.forwarding_namespaces.untyped).toEqual(['edge.authn']);
    expect(f.request_attributes).toContain('xds.route_metadata');
  });

  it('leaves problem+json replies and idempotent replays to the local reply mappers untouched', () => {
    for (const m of hcm.local_reply_config.mappers) {
      const expr: string = m.filter.extension_filter.typed_config.expression;
      expect(expr).toContain("'application/problem+json'");
      expect(expr).toContain("!('idempotent-replayed' in response.headers)");
    }
  });
});

describe('sidecar.yaml', () => {
  const filterConfig = {
    ...SIDECAR_HEADER_FILTER,
    header_cache_expiry: '30s',
    fail_closed: false,
  };
  const yaml = renderEnvoyConfig('sidecar', {
    LISTEN_HOST: '127.0.0.1',
    SIDECAR_PORT: 7110,
    ADMIN_PORT: 9902,
    APP_PORT: 7100,
    HEADER_PROVIDER_PORT: 7200,
    HEADER_FILTER_WASM: '/x/header-filter.wasm',
    HEADER_FILTER_CONFIG: headerFilterConfigValue(filterConfig),
  });
  const doc = parse(yaml);
  const hcm = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;

  it('runs the Wasm header filter (V8, reloaded on failure) before the router', () => {
    expect(hcm.http_filters.map((f: { name: string }) => f.name)).toEqual([
      'envoy.filters.http.wasm.header_filter',
      'envoy.filters.http.router',
    ]);
    const wasm = hcm.http_filters[0].typed_config.config;
    expect(wasm.failure_policy).toBe('FAIL_RELOAD');
    expect(wasm.vm_config.runtime).toBe('envoy.wasm.runtime.v8');
    expect(wasm.vm_config.code.local.filename).toBe('/x/header-filter.wasm');
    expect(JSON.parse(wasm.configuration.value)).toEqual(filterConfig);
  });

  it('has the header provider as a cluster, named as the filter fetches it', () => {
    const clusters = doc.static_resources.clusters.map((c: { name: string }) => c.name);
    expect(clusters).toContain(SIDECAR_HEADER_FILTER.header_providing_service_cluster);
    expect(parse(yaml).admin.address.socket_address.address).toBe('127.0.0.1');
  });

  it('finds the header provider at 127.0.0.1 unless a host is given (a Service name)', () => {
    type Cluster = { name: string; type: string; load_assignment: any };
    const provider = (y: string) =>
      (parse(y) as { static_resources: { clusters: Cluster[] } }).static_resources.clusters.find(
        (c) => c.name === 'header_provider',
      )!;
    const addr = (c: Cluster) =>
      c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address;
    expect(provider(yaml).type).toBe('STRICT_DNS');
    expect(addr(provider(yaml))).toBe('127.0.0.1');
    const k8s = renderEnvoyConfig('sidecar', {
      LISTEN_HOST: '0.0.0.0',
      SIDECAR_PORT: 7110,
      ADMIN_PORT: 9902,
      APP_PORT: 7100,
      HEADER_PROVIDER_PORT: 7200,
      HEADER_PROVIDER_HOST: 'edge-header-provider.ns.svc',
      HEADER_FILTER_WASM: '/x/header-filter.wasm',
      HEADER_FILTER_CONFIG: headerFilterConfigValue(filterConfig),
    });
    expect(addr(provider(k8s))).toBe('edge-header-provider.ns.svc');
  });
});
