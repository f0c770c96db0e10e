import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { headerFilterConfigValue, renderEnvoyConfig, SIDECAR_HEADER_FILTER } from './render';
import { xdsBootstrap, xdsResourcesFromBootstrap, XDS_CLUSTER } from './xds';

const front = renderEnvoyConfig('front-proxy', {
  LISTEN_HOST: '127.0.0.1',
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
});
const sidecar = renderEnvoyConfig('sidecar', {
  LISTEN_HOST: '127.0.0.1',
  SIDECAR_PORT: 7110,
  ADMIN_PORT: 9902,
  APP_PORT: 7100,
  HEADER_PROVIDER_PORT: 7200,
  HEADER_FILTER_WASM: '/x/header-filter.wasm',
  HEADER_FILTER_CONFIG: headerFilterConfigValue({ ...SIDECAR_HEADER_FILTER }),
});

describe('xdsResourcesFromBootstrap', () => {
  it('splits the front proxy: its HCM uses RDS, its static clusters become EDS', () => {
    const staticDoc = parse(front);
    const r = xdsResourcesFromBootstrap(front);
    expect(r.listeners.map((l) => l.name)).toEqual(['front']);
    const hcm = (r.listeners[0] as any).filter_chains[0].filters[0].typed_config;
    expect(hcm.route_config).toBeUndefined();
    expect(hcm.rds).toEqual({
      route_config_name: 'front',
      config_source: { ads: {}, resource_api_version: 'V3' },
    });
    // The route configuration is the template's, unchanged.
    expect(r.routes).toEqual([
      staticDoc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config,
    ]);
    const names = staticDoc.static_resources.clusters.map((c: any) => c.name);
    expect(r.clusters.map((c) => c.name)).toEqual(names);
    expect(r.endpoints.map((e) => e.cluster_name)).toEqual(names);
    for (const c of r.clusters as any[]) {
      expect(c.type).toBe('EDS');
      expect(c.load_assignment).toBeUndefined();
    }
    expect(r.extensionConfigs).toEqual([]);
    // The ext_proc chain is untouched.
    expect(hcm.http_filters.map((f: any) => f.name)).toEqual(
      staticDoc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters.map(
        (f: any) => f.name,
      ),
    );
  });

  it("delivers the sidecar's Wasm filter through ECDS: the listener only names it", () => {
    const r = xdsResourcesFromBootstrap(sidecar);
    const hcm = (r.listeners[0] as any).filter_chains[0].filters[0].typed_config;
    const wasm = hcm.http_filters[0];
    expect(wasm.typed_config).toBeUndefined();
    expect(wasm.config_discovery.type_urls).toEqual([
      'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
    ]);
    expect(r.extensionConfigs).toHaveLength(1);
    const ext = r.extensionConfigs[0] as any;
    expect(ext.name).toBe(wasm.name);
    expect(ext.typed_config.config.vm_config.code.local.filename).toBe('/x/header-filter.wasm');
  });

  it('refuses a document without static_resources', () => {
    expect(() => xdsResourcesFromBootstrap('admin: {}')).toThrow(/static_resources/);
  });
});

describe('xdsBootstrap', () => {
  it('keeps the process settings, drops static resources and points ADS at the control plane', () => {
    const b = parse(
      xdsBootstrap(front, {
        nodeId: 'front-proxy',
        nodeCluster: 'front-proxy',
        controlPlaneHost: '127.0.0.1',
        controlPlanePort: 18000,
        clientCert: { path: '/p/sds-cert.yaml', secret: 'c' },
        ca: { path: '/p/sds-ca.yaml', secret: 'ca' },
        controlPlaneSan: 'control-plane',
      }),
    );
    expect(b.node).toEqual({ id: 'front-proxy', cluster: 'front-proxy' });
    expect(b.overload_manager).toEqual(parse(front).overload_manager);
    expect(b.static_resources.listeners).toBeUndefined();
    expect(b.static_resources.clusters.map((c: any) => c.name)).toEqual([XDS_CLUSTER]);
    expect(b.dynamic_resources.ads_config.api_type).toBe('DELTA_GRPC');
    const tls = b.static_resources.clusters[0].transport_socket.typed_config.common_tls_context;
    expect(tls.tls_certificate_sds_secret_configs[0].sds_config.path_config_source.path).toBe(
      '/p/sds-cert.yaml',
    );
  });
});
