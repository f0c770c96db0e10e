// `pnpm --filter @edge/bench bench:idempotency`: the real front proxy (envoy/front-proxy.yaml,
// started by @edge/e2e's startFrontProxyStack with Postgres, auth, echo, the authn processor,
// Redis and the idempotency processor) against the same config with the idempotency filter
// disabled on every route ("authn alone") and with every ext_proc filter disabled ("Envoy
// alone"): GET, POST without a key, POST with a fresh key per request, POST replayed. Load from a
// separate process at 127.0.0.1 (wrk); CPU per request from /proc for each of our processes.
import { cpus, loadavg } from 'node:os';
import { startFrontProxyStack } from '@edge/e2e';
import { benchFrontProxyYaml } from './bench-front-proxy';
import { freePort, infraBackend, type EnvoyInfo, type Started } from '@edge/testkit';
import { withoutExtProc } from './authn-envoy-alone';
import { groupCpuSeconds } from './cpu';
import {
  envoyCounters,
  UNLIMITED_CLIENT,
  wrk,
  wrkBin,
  type LoadRequest,
  type LoadResult,
} from './load';

const DURATION = Number(process.env.EDGE_BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.EDGE_BENCH_CONNECTIONS ?? 32);
const IDEMPOTENCY_FILTER = 'envoy.filters.http.ext_proc.idempotency';
const BODY = '{"amount":100,"currency":"EUR"}';

/** Process groups whose CPU is read, by what their command line contains. */
const GROUPS: [string, RegExp][] = [
  ['envoy', /(^|\/)envoy\0/],
  ['authn', /authn-processor\/dist\/main\.js/],
  ['idempotency', /idempotency-processor\/dist\/main\.js/],
  ['echo', /echo\/dist\/main\.js/],
  ['redis', /redis-server/],
];

const groupCpu = (): Map<string, number> => groupCpuSeconds(GROUPS);

interface Row {
  name: string;
  r: LoadResult;
  cpuUs: Map<string, number>;
  idemMsgs: number;
  statuses: string;
}

function freshKeyScript(auth: string, body: string): string {
  return `
local counter = 0
local prefix = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
request = function()
  counter = counter + 1
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Authorization"] = ${JSON.stringify(auth)}
  h["Content-Type"] = "application/json"
  h["Idempotency-Key"] = '"bench-' .. prefix .. '-' .. counter .. '"'
  return wrk.format("POST", nil, h, ${JSON.stringify(body)})
end
`;
}

async function main(): Promise<void> {
  const bin = wrkBin();
  if (bin === undefined) throw new Error('wrk is missing: run scripts/infra/setup.sh');
  // Idempotency without audit logging: the logging parts are measured by bench:logging.
  const stack = await startFrontProxyStack({
    envoyConcurrency: 1,
    envoyVars: UNLIMITED_CLIENT,
    logging: false,
  });
  const extra: Started<EnvoyInfo>[] = [];
  try {
    const render = (port: number, admin: number) => benchFrontProxyYaml(stack, port, admin);
    const variant = async (name: string, only?: string[]) => {
      const port = await freePort();
      const admin = await freePort();
      const cfg = withoutExtProc(render(port, admin), only);
      extra.push(
        await infraBackend().envoy({
          name,
          configYaml: cfg.yaml,
          adminPort: admin,
          readyPorts: [port],
          concurrency: 1,
        }),
      );
      return { base: `http://127.0.0.1:${port}`, admin };
    };
    const alone = await variant('bench-envoy-alone');
    const authnOnly = await variant('bench-authn-alone', [IDEMPOTENCY_FILTER]);
    // The whole chain, straight to echo like the two rows above (the stack's own front proxy
    // would add echo's sidecar hop): an empty list disables no filter.
    const chain = await variant('bench-chain', []);

    const root = (await (await fetch(`${stack.authUrl}/create-root-key`)).json()) as {
      key_id: string;
      secret: string;
    };
    const auth = `Basic ${Buffer.from(`${root.key_id}:${root.secret}`).toString('base64')}`;
    const headers = { authorization: auth };
    const replayKey = `"bench-replay-${Date.now()}"`;

    // Sanity: the replay row really replays, the fresh-key row really executes.
    const seed = await fetch(`${chain.base}/api/v0/orders/bench`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': replayKey },
      body: BODY,
    });
    await seed.text();
    const check = await fetch(`${chain.base}/api/v0/orders/bench`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': replayKey },
      body: BODY,
    });
    await check.text();
    if (seed.status !== 200 || check.headers.get('idempotent-replayed') !== 'true') {
      throw new Error(`replay sanity check failed: ${seed.status} / ${check.status}`);
    }

    type Scenario = { name: string; target: typeof chain; path: string; req: LoadRequest };
    const get: LoadRequest = { headers };
    const postNoKey: LoadRequest = { headers, body: BODY };
    const scenarios: Scenario[] = [
      { name: 'GET, Envoy alone', target: alone, path: '/api/v0/echo', req: get },
      { name: 'GET, authn alone', target: authnOnly, path: '/api/v0/echo', req: get },
      { name: 'GET, authn → idempotency', target: chain, path: '/api/v0/echo', req: get },
      { name: 'POST no key, authn alone', target: authnOnly, path: '/api/v0/echo', req: postNoKey },
      {
        name: 'POST no key, authn → idempotency',
        target: chain,
        path: '/api/v0/echo',
        req: postNoKey,
      },
      {
        name: 'POST fresh key per request, authn → idempotency',
        target: chain,
        path: '/api/v0/orders/bench',
        req: { wrkScript: freshKeyScript(auth, BODY) },
      },
      {
        name: 'POST replayed (same key), authn → idempotency',
        target: chain,
        path: '/api/v0/orders/bench',
        req: { headers: { ...headers, 'idempotency-key': replayKey }, body: BODY },
      },
    ];

    const rows: Row[] = [];
    for (const s of scenarios) {
      const url = s.target.base + s.path;
      await wrk(bin, url, WARMUP, CONNECTIONS, s.req);
      const c0 = groupCpu();
      const e0 = await envoyCounters(s.target.admin, 'http.front.');
      const r = await wrk(bin, url, DURATION, CONNECTIONS, s.req);
      const c1 = groupCpu();
      const e1 = await envoyCounters(s.target.admin, 'http.front.');
      const d = (k: string): number => (e1.get(k) ?? 0) - (e0.get(k) ?? 0);
      const completed = d('http.front.downstream_rq_completed');
      const cpuUs = new Map<string, number>();
      for (const [g] of GROUPS) cpuUs.set(g, ((c1.get(g)! - c0.get(g)!) * 1e6) / r.requests);
      rows.push({
        name: s.name,
        r,
        cpuUs,
        idemMsgs:
          completed > 0 ? d('http.front.ext_proc.idempotency.stream_msgs_sent') / completed : NaN,
        statuses: ['2xx', '4xx', '5xx']
          .map((c) => `${c}=${d(`http.front.downstream_rq_${c}`)}`)
          .join(' '),
      });
    }

    const [l1, l5] = loadavg();
    console.log(
      `\nmachine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown'}; load average ${l1!.toFixed(2)} (1 min) ${l5!.toFixed(2)} (5 min); node ${process.version}; Envoy --concurrency 1`,
    );
    console.log(`load: wrk -t1 -c${CONNECTIONS}, ${DURATION}s per row after ${WARMUP}s warm-up\n`);
    console.log(
      '| scenario | requests/s | p50 ms | p99 ms | ratio to Envoy alone | non-2xx | idempotency msgs/request | CPU µs/request: envoy | authn | idempotency | redis | echo |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const base = rows[0]!.r.rps;
    const us = (row: Row, g: string): string => row.cpuUs.get(g)!.toFixed(0);
    for (const row of rows) {
      console.log(
        `| ${row.name} | ${row.r.rps.toFixed(0)} | ${row.r.p50ms.toFixed(3)} | ${row.r.p99ms.toFixed(3)} | ${(row.r.rps / base).toFixed(2)} | ${row.r.errors} | ${row.idemMsgs.toFixed(2)} | ${us(row, 'envoy')} | ${us(row, 'authn')} | ${us(row, 'idempotency')} | ${us(row, 'redis')} | ${us(row, 'echo')} |`,
      );
    }
    for (const row of rows.filter((x) => x.r.errors > 0)) {
      console.log(`non-2xx in "${row.name}": ${row.statuses}`);
    }
  } finally {
    for (const e of extra) await e.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
