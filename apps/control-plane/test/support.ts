// Real parts for the control plane's integration tests: Postgres, the built control plane as a
// child process (`node dist/main.js`, restartable on the same ports), real Envoys bootstrapped
// from it over mTLS, and small HTTP servers (the app behind the sidecar, the header provider,
// an extra upstream).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  headerFilterConfigValue,
  renderNode,
  SIDECAR_HEADER_FILTER,
  type TopologyNode,
  xdsBootstrap,
} from '@edge/envoy-config';
import { headerFilterWasmPath } from '@edge/header-filter-wasm';
import {
  type EnvoyInfo,
  freePort,
  infraBackend,
  type NodeServiceInfo,
  type PostgresInfo,
  startNodeService,
  type Started,
} from '@edge/testkit';
import {
  CA_SECRET,
  CLIENT_CERT_SECRET,
  CONTROL_PLANE_SAN,
  ensurePki,
  pkiLayout,
} from '@edge/xds-pki';

export const ADMIN_TOKEN = 'integration-test-admin-token-0123456789';
const ENTRY = join(__dirname, '..', 'dist', 'main.js');

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A loopback HTTP server answering every request with `answer(req)` as JSON. */
export async function jsonServer(
  answer: (req: { url: string; headers: Record<string, unknown> }) => unknown,
): Promise<{ port: number; server: Server; stop(): Promise<void> }> {
  const port = await freePort();
  const server = createServer((req, res) => {
    const body = JSON.stringify(answer({ url: req.url ?? '', headers: req.headers }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Stack {
  pg: Started<PostgresInfo>;
  pkiDir: string;
  nodes: TopologyNode[];
  adminPort: number;
  xdsPort: number;
  cp: Started<NodeServiceInfo> | undefined;
  startControlPlane(): Promise<void>;
  stopControlPlane(): Promise<void>;
  startEnvoy(
    node: TopologyNode,
    opts?: {
      clientCert?: boolean;
      /** Present the client certificate of this node instead of its own. */
      certOf?: string;
      readyPorts?: number[];
      apiType?: 'GRPC' | 'DELTA_GRPC';
    },
  ): Promise<Started<EnvoyInfo>>;
  stop(): Promise<void>;
}

/** Topology nodes of the tests: a sidecar (app + header provider) and a front proxy. */
export async function testNodes(ports: { app: number; provider: number }): Promise<{
  sidecar: TopologyNode;
  front: TopologyNode;
  sidecarPort: number;
  frontPort: number;
}> {
  const sidecarPort = await freePort();
  const frontPort = await freePort();
  const sidecar: TopologyNode = {
    id: 'sidecar-a',
    cluster: 'app-a',
    config: 'sidecar',
    vars: {
      LISTEN_HOST: '127.0.0.1',
      SIDECAR_PORT: sidecarPort,
      ADMIN_PORT: 0,
      APP_PORT: ports.app,
      HEADER_PROVIDER_PORT: ports.provider,
      HEADER_FILTER_WASM: headerFilterWasmPath(),
      HEADER_FILTER_CONFIG: headerFilterConfigValue({
        ...SIDECAR_HEADER_FILTER,
        header_cache_expiry: '5s',
      }),
    },
  };
  const front: TopologyNode = {
    id: 'front-proxy',
    cluster: 'front-proxy',
    config: 'front-proxy',
    vars: {
      LISTEN_HOST: '127.0.0.1',
      FRONT_PROXY_PORT: frontPort,
      ADMIN_PORT: 0,
      ECHO_PORT: sidecarPort,
      AUTHN_PROCESSOR_PORT: await freePort(),
      IDEMPOTENCY_PROCESSOR_PORT: await freePort(),
      LOGGING_PROCESSOR_PORT: await freePort(),
      LOGGING_ACCESS_LOG_PORT: await freePort(),
      LOGGING_DISABLED: true,
      LOGGING_OBSERVABILITY_MODE: true,
      CONSUMER_PORT: await freePort(),
    },
  };
  return { sidecar, front, sidecarPort, frontPort };
}

export async function startStack(nodes: TopologyNode[]): Promise<Stack> {
  const infra = infraBackend();
  const pg = await infra.postgres();
  const dir = mkdtempSync(join(tmpdir(), 'cp-int-'));
  const pkiDir = join(dir, 'pki');
  ensurePki(
    pkiDir,
    nodes.map((n) => n.id),
  );
  const topologyFile = join(dir, 'topology.json');
  writeFileSync(topologyFile, JSON.stringify({ nodes }));
  const adminPort = await freePort();
  const xdsPort = await freePort();
  const envoys: Started<EnvoyInfo>[] = [];
  const stack: Stack = {
    pg,
    pkiDir,
    nodes,
    adminPort,
    xdsPort,
    cp: undefined,
    async startControlPlane() {
      stack.cp = await startNodeService({
        name: 'control-plane',
        entry: ENTRY,
        env: {
          DATABASE_URL: pg.info.url,
          PORT: String(adminPort),
          XDS_PORT: String(xdsPort),
          ADMIN_TOKEN,
          TOPOLOGY: topologyFile,
          XDS_PKI_DIR: pkiDir,
          LOG_LEVEL: 'info',
          DB_CONNECT_MAX_ATTEMPTS: '5',
        },
        readyPorts: [adminPort, xdsPort],
        readyUrl: `http://127.0.0.1:${adminPort}/health`,
        startTimeoutMs: 60_000,
      });
    },
    async stopControlPlane() {
      await stack.cp?.stop();
      stack.cp = undefined;
    },
    async startEnvoy(node, opts = {}) {
      const files = pkiLayout(pkiDir).node(opts.certOf ?? node.id);
      const configYaml = xdsBootstrap(renderNode(node), {
        nodeId: node.id,
        nodeCluster: node.cluster,
        controlPlaneHost: '127.0.0.1',
        controlPlanePort: xdsPort,
        ...(opts.clientCert === false
          ? {}
          : { clientCert: { path: files.sdsCert, secret: CLIENT_CERT_SECRET } }),
        ca: { path: files.sdsCa, secret: CA_SECRET },
        controlPlaneSan: CONTROL_PLANE_SAN,
        apiType: opts.apiType ?? 'DELTA_GRPC',
      });
      const listenPort =
        node.config === 'sidecar' ? node.vars.SIDECAR_PORT : node.vars.FRONT_PROXY_PORT;
      const envoy = await infra.envoy({
        name: `envoy-${node.id}`,
        configYaml,
        readyPorts: opts.readyPorts ?? [listenPort],
        concurrency: 2,
        startTimeoutMs: 60_000,
      });
      envoys.push(envoy);
      return envoy;
    },
    async stop() {
      await Promise.allSettled(envoys.map((e) => e.stop()));
      await stack.stopControlPlane();
      await pg.stop();
    },
  };
  await stack.startControlPlane();
  return stack;
}

/** The admin API, as a client would call it. */
export async function admin(
  stack: Pick<Stack, 'adminPort'>,
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string | null; contentType?: string; raw?: Buffer | string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: Buffer | string | undefined = opts.raw;
  if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(`http://127.0.0.1:${stack.adminPort}${path}`, {
    method,
    headers,
    body: payload,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text (tests assert JSON where it matters)
  }
  return { status: res.status, body: parsed };
}

export async function envoyStats(adminPort: number, filter: string): Promise<Map<string, number>> {
  const res = await fetch(
    `http://127.0.0.1:${adminPort}/stats?filter=${encodeURIComponent(filter)}`,
  );
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([^:]+): (\d+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const exec = promisify(execFile);

/** wrk against a URL for `seconds`: requests, non-2xx responses, socket errors. */
export async function wrk(
  url: string,
  seconds: number,
  connections = 8,
): Promise<{ requests: number; non2xx: number; socketErrors: number; raw: string }> {
  const { stdout } = await exec(
    'wrk',
    ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', url],
    { maxBuffer: 1 << 20 },
  );
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0),
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    raw: stdout,
  };
}
