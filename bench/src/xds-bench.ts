// bench:xds — the control plane (apps/control-plane, its built dist/main.js as a child process).
//
// 1. Change → served: a real sidecar Envoy bootstrapped from the control plane over mTLS; 100 admin
//    API changes (PUT a route's path prefix), each timed from sending the request until the Envoy
//    serves the new path (polled every 2 ms). p50 / p99 / max.
// 2. Cost per stream: N simulated Envoys (N = 100, then 1,000), each its own TLS connection with a
//    client certificate and one delta ADS stream, spread over 10 sidecar nodes (each snapshot with
//    the ~47 KB Wasm module inlined over ECDS). The control plane's CPU (utime + stime) and RSS:
//    connecting and syncing all N, idle for 10 s, then 20 route changes (each fanned out to N/10
//    streams); push latency = from the admin request to each stream receiving its RDS update.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import {
  headerFilterConfigValue,
  renderNode,
  SIDECAR_HEADER_FILTER,
  type TopologyNode,
  xdsBootstrap,
} from '@edge/envoy-config';
import { headerFilterWasmPath } from '@edge/header-filter-wasm';
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
} from '@edge/protos/xds';
import { freePort, infraBackend, type Started, startNodeService } from '@edge/testkit';
import {
  CA_SECRET,
  CLIENT_CERT_SECRET,
  CONTROL_PLANE_SAN,
  ensurePki,
  pkiLayout,
} from '@edge/xds-pki';
import { adsServiceDefinition, TypeUrl } from '@edge/xds-server';
import { type ClientDuplexStream, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { procCpuSeconds } from './cpu';

const CHANGES = Number(process.env.EDGE_BENCH_XDS_CHANGES ?? 100);
const STREAM_COUNTS = (process.env.EDGE_BENCH_XDS_STREAMS ?? '100,1000').split(',').map(Number);
const SIM_NODES = 10;
const FANOUT_CHANGES = 20;
const TOKEN = 'bench-admin-token-0123456789abcdef';

const entry = join(dirname(require.resolve('@edge/control-plane/package.json')), 'dist', 'main.js');

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

async function jsonServer(body: unknown): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, server };
}

async function sidecarNode(
  id: string,
  appPort: number,
  providerPort: number,
): Promise<TopologyNode> {
  return {
    id,
    cluster: id,
    config: 'sidecar',
    vars: {
      LISTEN_HOST: '127.0.0.1',
      SIDECAR_PORT: await freePort(),
      ADMIN_PORT: 0,
      APP_PORT: appPort,
      HEADER_PROVIDER_PORT: providerPort,
      HEADER_FILTER_WASM: headerFilterWasmPath(),
      HEADER_FILTER_CONFIG: headerFilterConfigValue({ ...SIDECAR_HEADER_FILTER }),
    },
  };
}

interface ControlPlane {
  started: Started<{ pid: number | undefined }>;
  pid: number;
  admin(method: string, path: string, body?: unknown): Promise<number>;
  xdsPort: number;
}

async function startControlPlane(
  pgUrl: string,
  nodes: TopologyNode[],
  pkiDir: string,
): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-xds-'));
  const topology = join(dir, 'topology.json');
  writeFileSync(topology, JSON.stringify({ nodes }));
  const port = await freePort();
  const xdsPort = await freePort();
  const started = await startNodeService({
    name: 'bench-control-plane',
    entry,
    env: {
      DATABASE_URL: pgUrl,
      PORT: String(port),
      XDS_PORT: String(xdsPort),
      ADMIN_TOKEN: TOKEN,
      TOPOLOGY: topology,
      XDS_PKI_DIR: pkiDir,
      LOG_LEVEL: 'warn',
    },
    readyPorts: [port, xdsPort],
    readyUrl: `http://127.0.0.1:${port}/health`,
    startTimeoutMs: 60_000,
  });
  const pid = started.info.pid;
  if (pid === undefined) throw new Error('control plane: no pid');
  return {
    started,
    pid,
    xdsPort,
    async admin(method, path, body) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
      return res.status;
    },
  };
}

/** Part 1: admin change → Envoy serving it. */
async function changeToServed(pgUrl: string, pkiDir: string): Promise<number[]> {
  const app = await jsonServer({ app: 'app' });
  const target = await jsonServer({ app: 'target' });
  const provider = await jsonServer({ 'x-bench': '1' });
  const node = await sidecarNode('bench-sidecar', app.port, provider.port);
  ensurePki(pkiDir, [node.id]);
  const cp = await startControlPlane(pgUrl, [node], pkiDir);
  const files = pkiLayout(pkiDir).node(node.id);
  const port = node.config === 'sidecar' ? node.vars.SIDECAR_PORT : 0;
  const envoy = await infraBackend().envoy({
    name: 'bench-xds-sidecar',
    configYaml: xdsBootstrap(renderNode(node), {
      nodeId: node.id,
      nodeCluster: node.cluster,
      controlPlaneHost: '127.0.0.1',
      controlPlanePort: cp.xdsPort,
      clientCert: { path: files.sdsCert, secret: CLIENT_CERT_SECRET },
      ca: { path: files.sdsCa, secret: CA_SECRET },
      controlPlaneSan: CONTROL_PLANE_SAN,
    }),
    readyPorts: [port],
  });
  const times: number[] = [];
  try {
    await cp.admin('POST', `/nodes/${node.id}/upstreams`, {
      name: 'target',
      endpoints: [{ address: '127.0.0.1', port: target.port }],
    });
    await cp.admin('POST', `/nodes/${node.id}/routes`, {
      name: 'moving',
      pathPrefix: '/c-start',
      upstream: 'target',
    });
    const served = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      const text = await res.text();
      return text.includes('"target"');
    };
    for (let i = 0; i < CHANGES; i++) {
      const path = `/c${i}`;
      const t0 = performance.now();
      await cp.admin('PUT', `/nodes/${node.id}/routes/moving`, {
        pathPrefix: path,
        upstream: 'target',
      });
      for (;;) {
        if (await served(path)) break;
        if (performance.now() - t0 > 10_000) throw new Error(`change ${i} not served in 10 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      times.push(performance.now() - t0);
    }
  } finally {
    await envoy.stop();
    await cp.started.stop();
    for (const s of [app, target, provider]) s.server.close();
  }
  return times;
}

type Ads = ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
const AdsClient = makeGenericClientConstructor(adsServiceDefinition, 'ads');

/** One simulated Envoy: its own TLS connection, one delta stream, ACKs every response. */
class SimEnvoy {
  readonly lastRds: number[] = [];
  synced = false;
  private stream: Ads | undefined;
  private client: InstanceType<typeof AdsClient> | undefined;

  constructor(
    private readonly nodeId: string,
    private readonly creds: ReturnType<typeof credentials.createSsl>,
    private readonly port: number,
  ) {}

  start(): void {
    this.client = new AdsClient(`127.0.0.1:${this.port}`, this.creds, {
      'grpc.ssl_target_name_override': CONTROL_PLANE_SAN,
      // One connection per simulated Envoy (channels would otherwise share one).
      'grpc.use_local_subchannel_pool': 1,
    });
    const stream = (
      this.client as unknown as { deltaAggregatedResources(): Ads }
    ).deltaAggregatedResources();
    this.stream = stream;
    stream.on('error', () => undefined);
    stream.on('data', (res: DeltaDiscoveryResponse) => {
      if (res.typeUrl === TypeUrl.Route) {
        this.lastRds.push(performance.now());
        this.synced = true;
      }
      stream.write(
        create(DeltaDiscoveryRequestSchema, { typeUrl: res.typeUrl, responseNonce: res.nonce }),
      );
    });
    const node = { id: this.nodeId, cluster: this.nodeId };
    // As Envoy: wildcard CDS and LDS, then the named types (here: everything, '*').
    const sub = (typeUrl: string, names: string[]) =>
      stream.write(
        create(DeltaDiscoveryRequestSchema, { node, typeUrl, resourceNamesSubscribe: names }),
      );
    sub(TypeUrl.Cluster, []);
    sub(TypeUrl.Endpoint, ['*']);
    sub(TypeUrl.ExtensionConfig, ['*']);
    sub(TypeUrl.Listener, []);
    sub(TypeUrl.Route, ['*']);
  }

  stop(): void {
    this.stream?.cancel();
    this.client?.close();
  }
}

interface CostRow {
  streams: number;
  connectSeconds: number;
  connectCpu: number;
  idleCpuPerSec: number;
  changesCpu: number;
  rssStart: number;
  rssSynced: number;
  rssAfter: number;
  pushP50: number;
  pushP99: number;
}

async function streamCost(pgUrl: string, pkiDir: string, n: number): Promise<CostRow> {
  const app = await freePort();
  const provider = await freePort();
  const nodes: TopologyNode[] = [];
  for (let i = 0; i < SIM_NODES; i++) nodes.push(await sidecarNode(`sim-${i}`, app, provider));
  ensurePki(pkiDir, ['sim-client', ...nodes.map((x) => x.id)]);
  const cp = await startControlPlane(pgUrl, nodes, pkiDir);
  const l = pkiLayout(pkiDir);
  const client = l.node('sim-client');
  const creds = credentials.createSsl(
    readFileSync(l.ca.cert),
    readFileSync(client.key),
    readFileSync(client.cert),
  );
  const sims: SimEnvoy[] = [];
  try {
    const rssStart = rssMiB(cp.pid);
    const cpu0 = procCpuSeconds(cp.pid);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = new SimEnvoy(nodes[i % SIM_NODES]!.id, creds, cp.xdsPort);
      sims.push(s);
      s.start();
    }
    const deadline = Date.now() + 300_000;
    while (!sims.every((s) => s.synced)) {
      if (Date.now() > deadline) throw new Error(`${n} streams not synced in 300 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const connectSeconds = (performance.now() - t0) / 1000;
    const cpu1 = procCpuSeconds(cp.pid);
    const rssSynced = rssMiB(cp.pid);
    await new Promise((r) => setTimeout(r, 10_000));
    const cpu2 = procCpuSeconds(cp.pid);
    const latencies: number[] = [];
    for (let c = 0; c < FANOUT_CHANGES; c++) {
      const nodeId = nodes[c % SIM_NODES]!.id;
      const mine = sims.filter((_, i) => i % SIM_NODES === c % SIM_NODES);
      const before = mine.map((s) => s.lastRds.length);
      const start = performance.now();
      await cp.admin('POST', `/nodes/${nodeId}/routes`, {
        name: `r${n}-${c}`,
        pathPrefix: `/r${n}-${c}`,
        upstream: 'app',
      });
      const wait = Date.now() + 30_000;
      while (mine.some((s, i) => s.lastRds.length <= before[i]!)) {
        if (Date.now() > wait) throw new Error('a push did not arrive in 30 s');
        await new Promise((r) => setTimeout(r, 1));
      }
      mine.forEach((s, i) => latencies.push(s.lastRds[before[i]!]! - start));
    }
    const cpu3 = procCpuSeconds(cp.pid);
    latencies.sort((a, b) => a - b);
    return {
      streams: n,
      connectSeconds,
      connectCpu: cpu1 - cpu0,
      idleCpuPerSec: (cpu2 - cpu1) / 10,
      changesCpu: cpu3 - cpu2,
      rssStart,
      rssSynced,
      rssAfter: rssMiB(cp.pid),
      pushP50: pct(latencies, 50),
      pushP99: pct(latencies, 99),
    };
  } finally {
    for (const s of sims) s.stop();
    await cp.started.stop();
  }
}

async function main(): Promise<void> {
  const pg = await infraBackend().postgres({ name: 'bench-xds-postgres' });
  const pkiDir = join(mkdtempSync(join(tmpdir(), 'bench-xds-pki-')), 'pki');
  try {
    console.log(
      `bench:xds  ${new Date().toISOString()}  ${cpus().length} × ${cpus()[0]?.model ?? '?'}  load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const times = (await changeToServed(pg.info.url, pkiDir)).sort((a, b) => a - b);
    console.log(
      `\nadmin change → Envoy serving it (${times.length} route changes, RDS, real Envoy, mTLS):`,
    );
    console.log(
      `  p50 ${pct(times, 50).toFixed(1)} ms   p99 ${pct(times, 99).toFixed(1)} ms   max ${times.at(-1)?.toFixed(1)} ms   min ${times[0]?.toFixed(1)} ms`,
    );
    console.log(
      `\ncontrol plane cost, simulated Envoys (delta ADS, one TLS connection each, ${SIM_NODES} nodes, Wasm inlined):`,
    );
    console.log(
      '  streams | sync all (s) | CPU to sync (s) | idle CPU (%) | CPU for 20 changes (s) | RSS start → synced → after (MiB) | push p50 / p99 (ms)',
    );
    for (const n of STREAM_COUNTS) {
      const r = await streamCost(pg.info.url, pkiDir, n);
      console.log(
        `  ${String(r.streams).padStart(7)} | ${r.connectSeconds.toFixed(2).padStart(12)} | ${r.connectCpu.toFixed(2).padStart(15)} | ${(r.idleCpuPerSec * 100).toFixed(2).padStart(12)} | ${r.changesCpu.toFixed(2).padStart(22)} | ${r.rssStart.toFixed(0)} → ${r.rssSynced.toFixed(0)} → ${r.rssAfter.toFixed(0)} | ${r.pushP50.toFixed(1)} / ${r.pushP99.toFixed(1)}`,
      );
    }
    console.log(
      `\nload average at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await pg.stop();
  }
}

main()
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    console.error('bench:xds failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
