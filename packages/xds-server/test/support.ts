// Integration-test support: a tagged HTTP upstream, an ADS bootstrap for a real Envoy, a PKI with
// one client certificate per Envoy (Debian's openssl), snapshots of a small topology, polling.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, infraBackend, type EnvoyInfo, type Started } from '@edge/testkit';
import { TypeUrl, type ResourceJson, type Snapshot } from '../src';

/** An upstream answering every request with `{ upstream: tag, path, headers }`. */
export async function startTaggedUpstream(
  tag: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ upstream: tag, path: req.url, headers: req.headers }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP GET (a fresh connection each time unless an agent is given). */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers, agent: false, timeout: 2000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The upstream tag of a response through Envoy (or `status <n>`). */
export async function upstreamOf(port: number, path: string): Promise<string> {
  const r = await get(port, path);
  if (r.status !== 200) return `status ${r.status}`;
  return (JSON.parse(r.body) as { upstream: string }).upstream;
}

/** Polls `fn` until it returns a truthy value; fails with the last value/error after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 25,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface Pki {
  dir: string;
  ca: { cert: string; key: string };
  server: { cert: string; key: string };
  /** A client certificate (CN=name) signed by the CA: one per Envoy. */
  client(name: string): { cert: string; key: string };
  /** A client certificate signed by a CA nobody trusts. */
  rogueClient: { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway CA with a server certificate for 127.0.0.1 and per-Envoy client certificates. */
export function createPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'xds-pki-'));
  const key = (name: string) => {
    openssl(dir, [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      `${name}.key`,
    ]);
    return join(dir, `${name}.key`);
  };
  const ca = (name: string) => {
    const k = key(name);
    openssl(dir, [
      'req',
      '-x509',
      '-new',
      '-key',
      k,
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return { cert: join(dir, `${name}.crt`), key: k };
  };
  const leaf = (name: string, signer: { cert: string; key: string }, ext: string) => {
    const k = key(name);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['req', '-new', '-key', k, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      signer.cert,
      '-CAkey',
      signer.key,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    ]);
    return { cert: join(dir, `${name}.crt`), key: k };
  };
  const clientExt =
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
  const theCa = ca('xds-ca');
  const rogueCa = ca('rogue-ca');
  return {
    dir,
    ca: theCa,
    server: leaf(
      'xds-server',
      theCa,
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    ),
    client: (name: string) => leaf(`client-${name}`, theCa, clientExt),
    rogueClient: leaf('rogue-client', rogueCa, clientExt),
  };
}

export interface AdsBootstrapOptions {
  nodeId: string;
  nodeCluster?: string;
  xdsPort: number;
  delta?: boolean;
  /** mTLS to the xDS server: the CA to trust and this Envoy's client certificate (if any). */
  tls?: { ca: string; cert?: string; key?: string };
  /** CDS/LDS initial_fetch_timeout (Envoy's default 15s). */
  initialFetchTimeout?: string;
}

/** A minimal bootstrap: node identity, ADS over gRPC to the server, LDS/CDS through ADS. */
export function adsBootstrap(o: AdsBootstrapOptions): string {
  const tls = o.tls
    ? {
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type':
              'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            sni: 'localhost',
            common_tls_context: {
              ...(o.tls.cert && o.tls.key
                ? {
                    tls_certificates: [
                      {
                        certificate_chain: { filename: o.tls.cert },
                        private_key: { filename: o.tls.key },
                      },
                    ],
                  }
                : {}),
              validation_context: {
                trusted_ca: { filename: o.tls.ca },
                match_typed_subject_alt_names: [
                  { san_type: 'DNS', matcher: { exact: 'localhost' } },
                ],
              },
            },
          },
        },
      }
    : {};
  return JSON.stringify({
    node: { id: o.nodeId, cluster: o.nodeCluster ?? 'test' },
    dynamic_resources: {
      ads_config: {
        api_type: o.delta ? 'DELTA_GRPC' : 'GRPC',
        transport_api_version: 'V3',
        set_node_on_first_message_only: true,
        grpc_services: [
          {
            envoy_grpc: {
              cluster_name: 'xds',
              retry_policy: { retry_back_off: { base_interval: '0.1s', max_interval: '0.5s' } },
            },
          },
        ],
      },
      cds_config: {
        ads: {},
        resource_api_version: 'V3',
        ...(o.initialFetchTimeout ? { initial_fetch_timeout: o.initialFetchTimeout } : {}),
      },
      lds_config: {
        ads: {},
        resource_api_version: 'V3',
        ...(o.initialFetchTimeout ? { initial_fetch_timeout: o.initialFetchTimeout } : {}),
      },
    },
    static_resources: {
      clusters: [
        {
          name: 'xds',
          type: 'STATIC',
          connect_timeout: '1s',
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
          load_assignment: {
            cluster_name: 'xds',
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: { socket_address: { address: '127.0.0.1', port_value: o.xdsPort } },
                    },
                  },
                ],
              },
            ],
          },
          ...tls,
        },
      ],
    },
  });
}

/** Starts a real Envoy with an ADS bootstrap; `readyPorts` are listener ports that must open. */
export async function startAdsEnvoy(
  o: AdsBootstrapOptions & { readyPorts?: number[]; waitReady?: boolean },
): Promise<Started<EnvoyInfo>> {
  return infraBackend().envoy({
    name: `xds-${o.nodeId}`,
    configYaml: adsBootstrap(o),
    readyPorts: o.readyPorts ?? [],
    startTimeoutMs: 60_000,
    concurrency: 1,
  });
}

/** GET on Envoy's admin port. */
export function admin(envoy: Started<EnvoyInfo>, path: string): Promise<HttpResult> {
  return get(envoy.info.adminPort, path);
}

/** One counter/gauge from Envoy's /stats. */
export async function stat(envoy: Started<EnvoyInfo>, name: string): Promise<number> {
  const res = await admin(
    envoy,
    `/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`,
  );
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)`, 'm').exec(res.body);
  return m?.[1] ? Number(m[1]) : NaN;
}

export interface TopologyOptions {
  listenerPort: number;
  /** upstream name → port */
  upstreams: Record<string, number>;
  /** path prefix → upstream name, in order */
  routes: [string, string][];
  /** Header-adding filter from ECDS named `add-header` (value given) before the router. */
  ecdsHeader?: string;
  /** Listener name (default `http`). */
  listenerName?: string;
}

export const ROUTE_NAME = 'routes';
export const ECDS_FILTER = 'add-header';

/** A listener → RDS → EDS clusters topology in Envoy JSON. */
export function topology(o: TopologyOptions): Snapshot {
  const clusters: ResourceJson[] = Object.keys(o.upstreams).map((name) => ({
    name,
    value: {
      type: 'EDS',
      connect_timeout: '1s',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    },
  }));
  const endpoints: ResourceJson[] = Object.entries(o.upstreams).map(([name, port]) => ({
    name,
    value: {
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
            },
          ],
        },
      ],
    },
  }));
  const httpFilters: unknown[] = [];
  if (o.ecdsHeader !== undefined) {
    httpFilters.push({
      name: ECDS_FILTER,
      config_discovery: {
        config_source: { ads: {}, resource_api_version: 'V3' },
        type_urls: [
          'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
        ],
      },
    });
  }
  httpFilters.push({
    name: 'envoy.filters.http.router',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
  });
  const listener: ResourceJson = {
    name: o.listenerName ?? 'http',
    value: {
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
                rds: {
                  route_config_name: ROUTE_NAME,
                  config_source: { ads: {}, resource_api_version: 'V3' },
                },
                http_filters: httpFilters,
              },
            },
          ],
        },
      ],
    },
  };
  const route: ResourceJson = {
    name: ROUTE_NAME,
    value: {
      virtual_hosts: [
        {
          name: 'all',
          domains: ['*'],
          routes: o.routes.map(([prefix, cluster]) => ({ match: { prefix }, route: { cluster } })),
        },
      ],
    },
  };
  const resources: Snapshot['resources'] = {
    [TypeUrl.Cluster]: clusters,
    [TypeUrl.Endpoint]: endpoints,
    [TypeUrl.Listener]: [listener],
    [TypeUrl.Route]: [route],
  };
  if (o.ecdsHeader !== undefined) resources[TypeUrl.ExtensionConfig] = [headerFilter(o.ecdsHeader)];
  return { resources };
}

/** The ECDS resource: a header_mutation filter adding `x-ecds: value` to requests. */
export function headerFilter(value: string): ResourceJson {
  return {
    name: ECDS_FILTER,
    value: {
      typed_config: {
        '@type':
          'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
        mutations: {
          request_mutations: [
            {
              append: {
                header: { key: 'x-ecds', value },
                append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
              },
            },
          ],
        },
      },
    },
  };
}

export { freePort };
