import { toEnvoyProcessingMode, type ProcessingModeSpec } from '../mode';
import { DEFAULT_SELECTOR_KEY } from '../server';

/** One `envoy.filters.http.ext_proc` filter in the chain. */
export interface ExtProcFilterSpec {
  /** Filter name suffix and, unless `selector` is false, the processor selected on the server. */
  name: string;
  /** Port of the ext_proc gRPC server (127.0.0.1 unless `host`). */
  port: number;
  host?: string;
  mode?: ProcessingModeSpec;
  /** Default false (fail closed). */
  failureModeAllow?: boolean;
  /** Envoy's `message_timeout` (default 200 ms in Envoy). */
  messageTimeoutMs?: number;
  /** gRPC timeout of the whole stream (`grpc_service.timeout`). */
  grpcTimeoutMs?: number;
  requestAttributes?: string[];
  responseAttributes?: string[];
  /** Dynamic metadata namespaces forwarded to the processor (`metadata_context`). */
  forwardingNamespaces?: string[];
  /** Namespaces the processor may write dynamic metadata into. */
  receivingNamespaces?: string[];
  allowModeOverride?: boolean;
  observabilityMode?: boolean;
  /**
   * Observability mode: how long Envoy keeps an ext_proc stream open after its request ended
   * (`deferred_close_timeout`; Envoy's default 5 s) unless the server ends it first.
   */
  deferredCloseTimeoutMs?: number;
  /** gRPC metadata value selecting the processor; `false` = send none. Default: `name`. */
  selector?: string | false;
}

export interface RouteSpec {
  /** Path prefix. */
  prefix: string;
  /** Route metadata (`filter_metadata`), readable by processors with `request_attributes: ['xds.route_metadata']`. */
  metadata?: Record<string, Record<string, unknown>>;
  /** Turn ext_proc filters off on this route: `true` = all, or the filter names. */
  disableExtProc?: boolean | string[];
}

export interface EnvoyConfigOptions {
  listenerPort: number;
  upstreamPort: number;
  upstreamHost?: string;
  extProcs?: ExtProcFilterSpec[];
  /** Default: one catch-all route `/`. */
  routes?: RouteSpec[];
  /**
   * Dynamic metadata set before the ext_proc filters (envoy.filters.http.set_metadata), e.g. to
   * exercise `forwardingNamespaces` / `metadata_context`.
   */
  dynamicMetadata?: Record<string, Record<string, unknown>>;
  /**
   * Envoy runtime keys (static layer). By default sets
   * `envoy.reloadable_features.ext_proc_graceful_grpc_close: true`: Envoy then half-closes each
   * ext_proc stream and waits for the server's status instead of resetting it (a reset per
   * request trips Node's HTTP/2 rapid-reset guard, which closes the connection under load).
   */
  runtime?: Record<string, unknown>;
  /** Upstream route timeout. Default 15 s. */
  routeTimeoutMs?: number;
}

const dur = (ms: number): string => `${(ms / 1000).toFixed(3)}s`;

/**
 * An Envoy bootstrap (JSON, which Envoy reads as YAML): listener -> [set_metadata] ->
 * ext_proc filters in order -> router -> upstream. Each ext_proc server gets an HTTP/2
 * cluster (explicit http2_protocol_options). The admin block is left to the launcher.
 */
export function buildEnvoyConfig(o: EnvoyConfigOptions): string {
  const extProcs = o.extProcs ?? [];
  const clusters: Record<string, unknown>[] = [
    {
      name: 'upstream',
      type: 'STATIC',
      connect_timeout: '1s',
      load_assignment: endpoint('upstream', o.upstreamHost ?? '127.0.0.1', o.upstreamPort),
    },
  ];
  const seen = new Set<string>();
  const clusterOf = (f: ExtProcFilterSpec): string => {
    const host = f.host ?? '127.0.0.1';
    const name = `ext_proc_${host.replace(/[^a-z0-9]/gi, '_')}_${f.port}`;
    if (!seen.has(name)) {
      seen.add(name);
      clusters.push({
        name,
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: endpoint(name, host, f.port),
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: {} },
          },
        },
      });
    }
    return name;
  };

  const httpFilters: Record<string, unknown>[] = [];
  if (o.dynamicMetadata !== undefined) {
    httpFilters.push({
      name: 'envoy.filters.http.set_metadata',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.set_metadata.v3.Config',
        metadata: Object.entries(o.dynamicMetadata).map(([ns, value]) => ({
          metadata_namespace: ns,
          value,
        })),
      },
    });
  }
  for (const f of extProcs) {
    const selector = f.selector === undefined ? f.name : f.selector;
    const grpcService: Record<string, unknown> = {
      envoy_grpc: { cluster_name: clusterOf(f) },
      ...(f.grpcTimeoutMs !== undefined ? { timeout: dur(f.grpcTimeoutMs) } : {}),
      ...(selector !== false
        ? { initial_metadata: [{ key: DEFAULT_SELECTOR_KEY, value: selector }] }
        : {}),
    };
    const cfg: Record<string, unknown> = {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
      grpc_service: grpcService,
      failure_mode_allow: f.failureModeAllow ?? false,
      processing_mode: toEnvoyProcessingMode(f.mode),
    };
    if (f.messageTimeoutMs !== undefined) cfg.message_timeout = dur(f.messageTimeoutMs);
    if (f.requestAttributes !== undefined) cfg.request_attributes = f.requestAttributes;
    if (f.responseAttributes !== undefined) cfg.response_attributes = f.responseAttributes;
    if (f.allowModeOverride === true) cfg.allow_mode_override = true;
    if (f.observabilityMode === true) cfg.observability_mode = true;
    if (f.deferredCloseTimeoutMs !== undefined)
      cfg.deferred_close_timeout = dur(f.deferredCloseTimeoutMs);
    if (f.forwardingNamespaces !== undefined || f.receivingNamespaces !== undefined) {
      cfg.metadata_options = {
        ...(f.forwardingNamespaces !== undefined
          ? { forwarding_namespaces: { untyped: f.forwardingNamespaces } }
          : {}),
        ...(f.receivingNamespaces !== undefined
          ? { receiving_namespaces: { untyped: f.receivingNamespaces } }
          : {}),
      };
    }
    httpFilters.push({ name: `envoy.filters.http.ext_proc.${f.name}`, typed_config: cfg });
  }
  httpFilters.push({
    name: 'envoy.filters.http.router',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
  });

  const routes = (o.routes ?? [{ prefix: '/' }]).map((r) => {
    const route: Record<string, unknown> = {
      match: { prefix: r.prefix },
      route: { cluster: 'upstream', timeout: dur(o.routeTimeoutMs ?? 15_000) },
    };
    if (r.metadata !== undefined) route.metadata = { filter_metadata: r.metadata };
    if (r.disableExtProc !== undefined && r.disableExtProc !== false) {
      const off = r.disableExtProc;
      route.typed_per_filter_config = Object.fromEntries(
        extProcs
          .filter((f) => off === true || off.includes(f.name))
          .map((f) => [
            `envoy.filters.http.ext_proc.${f.name}`,
            {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute',
              disabled: true,
            },
          ]),
      );
    }
    return route;
  });

  const config = {
    layered_runtime: {
      layers: [
        {
          name: 'static',
          static_layer: {
            'envoy.reloadable_features.ext_proc_graceful_grpc_close': true,
            ...o.runtime,
          },
        },
      ],
    },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: o.listenerPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    generate_request_id: true,
                    route_config: {
                      name: 'local',
                      virtual_hosts: [{ name: 'all', domains: ['*'], routes }],
                    },
                    http_filters: httpFilters,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
  return JSON.stringify(config, null, 2);
}

function endpoint(name: string, host: string, port: number): Record<string, unknown> {
  return {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: host, port_value: port } } } },
        ],
      },
    ],
  };
}
