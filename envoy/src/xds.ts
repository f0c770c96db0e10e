// The same topology, served over xDS: a rendered bootstrap (front-proxy.yaml, sidecar.yaml) split
// into the resources an xDS control plane serves, and the minimal bootstrap that points an Envoy
// at that control plane. The templates stay the one description; nothing here restates a route,
// a cluster or a filter.
import { isIP } from 'node:net';
import { parse, stringify } from 'yaml';

/** Envoy JSON (proto3 JSON names as in the YAML templates, `@type` on every Any). */
export type EnvoyJson = Record<string, unknown>;

/** Every resource of one node, by kind (each in the shape its xDS type expects). */
export interface XdsResources {
  /** envoy.config.listener.v3.Listener: HCMs use RDS, ECDS-marked filters use config_discovery. */
  listeners: EnvoyJson[];
  /** envoy.config.route.v3.RouteConfiguration (the HCMs' former inline route_config). */
  routes: EnvoyJson[];
  /** envoy.config.cluster.v3.Cluster: EDS clusters (their former load_assignment is below). */
  clusters: EnvoyJson[];
  /** envoy.config.endpoint.v3.ClusterLoadAssignment. */
  endpoints: EnvoyJson[];
  /** envoy.config.core.v3.TypedExtensionConfig: the HTTP filters delivered through ECDS. */
  extensionConfigs: EnvoyJson[];
}

/** HTTP filters of these types are delivered through ECDS (a new version never drains a listener). */
export const ECDS_FILTER_TYPES = ['type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm'];

const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** Every xDS resource comes over the one ADS stream. */
export const ADS_CONFIG_SOURCE = { ads: {}, resource_api_version: 'V3' } as const;

function isObject(v: unknown): v is EnvoyJson {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown): EnvoyJson[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Parses a rendered bootstrap (YAML) and splits its `static_resources` into xDS resources. */
export function xdsResourcesFromBootstrap(bootstrapYaml: string): XdsResources {
  const doc: unknown = parse(bootstrapYaml);
  if (!isObject(doc) || !isObject(doc.static_resources)) {
    throw new Error('envoy config: no static_resources to split into xDS resources');
  }
  const out: XdsResources = {
    listeners: [],
    routes: [],
    clusters: [],
    endpoints: [],
    extensionConfigs: [],
  };
  for (const listener of list(doc.static_resources.listeners)) {
    out.listeners.push(splitListener(clone(listener), out));
  }
  for (const cluster of list(doc.static_resources.clusters)) {
    const c = clone(cluster);
    const assignment = c.load_assignment;
    if (isObject(assignment) && servedAsEds(c.type, assignment)) {
      delete c.load_assignment;
      c.type = 'EDS';
      c.eds_cluster_config = { eds_config: ADS_CONFIG_SOURCE, service_name: c.name };
      out.endpoints.push({ ...assignment, cluster_name: c.name });
    }
    out.clusters.push(c);
  }
  return out;
}

/**
 * A cluster whose endpoints the control plane can serve over EDS: STATIC ones, and DNS ones
 * whose every address is already an IP literal (the local stack's `*_HOST` defaults). A DNS
 * cluster that names a host (a Kubernetes Service) keeps resolving it in Envoy.
 */
function servedAsEds(type: unknown, assignment: EnvoyJson): boolean {
  if (type === 'STATIC') return true;
  if (type !== 'STRICT_DNS' && type !== 'LOGICAL_DNS') return false;
  const addresses = list(assignment.endpoints).flatMap((locality) =>
    list(locality.lb_endpoints).map((lb) => {
      const endpoint = lb.endpoint;
      const address = isObject(endpoint) ? endpoint.address : undefined;
      const socket = isObject(address) ? address.socket_address : undefined;
      return isObject(socket) ? socket.address : undefined;
    }),
  );
  return addresses.length > 0 && addresses.every((a) => typeof a === 'string' && isIP(a) !== 0);
}

function splitListener(listener: EnvoyJson, out: XdsResources): EnvoyJson {
  for (const chain of list(listener.filter_chains)) {
    for (const filter of list(chain.filters)) {
      const hcm = filter.typed_config;
      if (!isObject(hcm) || hcm['@type'] !== HCM_TYPE) continue;
      if (isObject(hcm.route_config)) {
        const routeConfig = hcm.route_config;
        delete hcm.route_config;
        hcm.rds = { route_config_name: routeConfig.name, config_source: ADS_CONFIG_SOURCE };
        out.routes.push(routeConfig);
      }
      hcm.http_filters = list(hcm.http_filters).map((f) => {
        const typed = f.typed_config;
        if (!isObject(typed) || !ECDS_FILTER_TYPES.includes(String(typed['@type']))) return f;
        out.extensionConfigs.push({ name: f.name, typed_config: typed });
        const rest = { ...f };
        delete rest.typed_config;
        return {
          ...rest,
          config_discovery: { config_source: ADS_CONFIG_SOURCE, type_urls: [typed['@type']] },
        };
      });
    }
  }
  return listener;
}

/** Where an Envoy finds its control plane and the certificates of its mTLS connection. */
export interface XdsBootstrapOptions {
  /** The node id the control plane keys this Envoy's snapshot on (its certificate's CN). */
  nodeId: string;
  /** The node's cluster (Envoy's `--service-cluster`). */
  nodeCluster: string;
  controlPlaneHost: string;
  controlPlanePort: number;
  /** SDS file + secret with this node's client certificate; omit for no client certificate. */
  clientCert?: SdsRef;
  /** SDS file + secret with the CA that signed the control plane's certificate. */
  ca: SdsRef;
  /** Name the control plane's certificate must carry (a DNS SAN). */
  controlPlaneSan: string;
  /** `DELTA_GRPC` (incremental xDS, the default) or `GRPC` (state of the world). */
  apiType?: 'GRPC' | 'DELTA_GRPC';
}

/** One secret in an SDS file Envoy watches (`@edge/xds-pki` writes them). */
export interface SdsRef {
  path: string;
  secret: string;
}

/** The bootstrap's cluster pointing at the control plane. */
export const XDS_CLUSTER = 'xds_control_plane';

/**
 * The bootstrap of an xDS-managed Envoy: the rendered template's process settings (admin,
 * runtime, overload manager) with `static_resources` replaced by one cluster (the control plane,
 * HTTP/2 over mTLS) and ADS for listeners and clusters (routes, endpoints and ECDS follow).
 */
export function xdsBootstrap(bootstrapYaml: string, opts: XdsBootstrapOptions): string {
  const doc: unknown = parse(bootstrapYaml);
  if (!isObject(doc)) throw new Error('envoy config: not a YAML mapping');
  const tls: EnvoyJson = {
    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    sni: opts.controlPlaneSan,
    common_tls_context: {
      tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
      ...(opts.clientCert
        ? {
            tls_certificate_sds_secret_configs: [
              {
                name: opts.clientCert.secret,
                sds_config: {
                  path_config_source: { path: opts.clientCert.path },
                  resource_api_version: 'V3',
                },
              },
            ],
          }
        : {}),
      combined_validation_context: {
        default_validation_context: {
          match_typed_subject_alt_names: [
            { san_type: 'DNS', matcher: { exact: opts.controlPlaneSan } },
          ],
        },
        validation_context_sds_secret_config: {
          name: opts.ca.secret,
          sds_config: { path_config_source: { path: opts.ca.path }, resource_api_version: 'V3' },
        },
      },
    },
  };
  const { static_resources: _static, ...rest } = doc;
  void _static;
  const out: EnvoyJson = {
    node: { id: opts.nodeId, cluster: opts.nodeCluster },
    ...rest,
    dynamic_resources: {
      ads_config: {
        api_type: opts.apiType ?? 'DELTA_GRPC',
        transport_api_version: 'V3',
        set_node_on_first_message_only: true,
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER } }],
      },
      lds_config: ADS_CONFIG_SOURCE,
      cds_config: ADS_CONFIG_SOURCE,
    },
    static_resources: {
      clusters: [
        {
          name: XDS_CLUSTER,
          type: 'STATIC',
          connect_timeout: '1s',
          // Reconnects after a control-plane restart start at 0.5 s (Envoy's default backoff).
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: {
                http2_protocol_options: {
                  connection_keepalive: { interval: '30s', timeout: '5s' },
                },
              },
            },
          },
          load_assignment: {
            cluster_name: XDS_CLUSTER,
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: {
                        socket_address: {
                          address: opts.controlPlaneHost,
                          port_value: opts.controlPlanePort,
                        },
                      },
                    },
                  },
                ],
              },
            ],
          },
          transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: tls },
        },
      ],
    },
  };
  return stringify(out);
}
