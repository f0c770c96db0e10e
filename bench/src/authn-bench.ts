// `pnpm --filter @edge/bench bench:authn`: the real front proxy (envoy/front-proxy.yaml, started
// with Postgres, auth, echo and the authn processor by @edge/e2e's startFrontProxyStack) with
// HTTP Basic and with Bearer JWT, steady state (key cache and JWKS warm), against the same Envoy
// config with ext_proc disabled on its routes ("Envoy alone"). Load comes from a separate process
// at 127.0.0.1 (wrk, else autocannon), then a fixed moderate rate for the added p50.
import { cpus, loadavg } from 'node:os';
import { startFrontProxyStack } from '@edge/e2e';
import { benchFrontProxyYaml } from './bench-front-proxy';
import { freePort, infraBackend, type EnvoyInfo, type Started } from '@edge/testkit';
import { withoutExtProc } from './authn-envoy-alone';
import { descendantPid, procCpuSeconds } from './cpu';
import {
  autocannon,
  envoyCounters,
  fixedRate,
  UNLIMITED_CLIENT,
  wrk,
  wrkBin,
  type FixedRateResult,
  type LoadResult,
} from './load';

const DURATION = Number(process.env.EDGE_BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.EDGE_BENCH_CONNECTIONS ?? 32);
const FIXED_RATE = Number(process.env.EDGE_BENCH_RATE ?? 1000);
const ENVOY_CONCURRENCY = Number(process.env.EDGE_BENCH_ENVOY_CONCURRENCY ?? 1);
/** Directory for a CPU profile of the authn processor (`node --cpu-prof`), written at stop. */
const AUTHN_CPU_PROF = process.env.EDGE_BENCH_AUTHN_CPU_PROF;
const PATH = '/api/v0/echo';

interface RootKey {
  tenant: string;
  key_id: string;
  secret: string;
}

interface Scenario {
  name: string;
  base: string;
  adminPort: number;
  headers: Record<string, string>;
  /** Whether the authn processor must be in the path (identity headers reach echo). */
  authn: boolean;
}

/** CPU µs per request of Envoy and of the authn processor over a measured window. */
interface CpuPerRequest {
  envoyUs: number;
  authnUs: number;
}

/** Runs `measure`, returning its result with the CPU per request Envoy and authn used meanwhile. */
async function withCpu<T extends { rps: number }>(
  envoyPid: number,
  authnPid: number,
  measure: () => Promise<T>,
): Promise<T & { cpu: CpuPerRequest }> {
  const t0 = process.hrtime.bigint();
  const e0 = procCpuSeconds(envoyPid);
  const a0 = procCpuSeconds(authnPid);
  const r = await measure();
  const reqs = (r.rps * Number(process.hrtime.bigint() - t0)) / 1e9;
  return {
    ...r,
    cpu: {
      envoyUs: ((procCpuSeconds(envoyPid) - e0) * 1e6) / reqs,
      authnUs: ((procCpuSeconds(authnPid) - a0) * 1e6) / reqs,
    },
  };
}

interface Row extends LoadResult {
  name: string;
  cpu: CpuPerRequest;
  /** ext_proc streams Envoy opened to the authn processor per request (0 for Envoy alone). */
  extProcPerRequest: number;
  statusClasses: string;
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** One request per scenario before any load: 200, and identity headers only with authn. */
async function sanityCheck(s: Scenario, tenant: string): Promise<void> {
  const body = await json<{ headers: Record<string, unknown> }>(
    await fetch(s.base + PATH, { headers: s.headers }),
    s.name,
  );
  const seen = body.headers['x-tenant-id'];
  if (s.authn ? seen !== tenant : seen !== undefined) {
    throw new Error(`${s.name}: echo saw x-tenant-id=${String(seen)} (authn=${s.authn})`);
  }
  if (s.authn && body.headers.authorization !== undefined) {
    throw new Error(`${s.name}: credentials reached the upstream`);
  }
}

async function counters(adminPort: number): Promise<Map<string, number>> {
  const [front, cluster] = await Promise.all([
    envoyCounters(adminPort, 'http.front.downstream_rq_'),
    envoyCounters(adminPort, 'cluster.authn_processor.upstream_rq_'),
  ]);
  return new Map([...front, ...cluster]);
}

const delta = (a: Map<string, number>, b: Map<string, number>, k: string): number =>
  (b.get(k) ?? 0) - (a.get(k) ?? 0);

async function main(): Promise<void> {
  const prof = AUTHN_CPU_PROF
    ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${AUTHN_CPU_PROF}` }
    : undefined;
  const stack = await startFrontProxyStack({
    // Tokens outlive the run: the Bearer rows measure verification, not expiry.
    authEnv: { JWT_TTL_SECONDS: '3600' },
    authnEnv: prof,
    envoyConcurrency: ENVOY_CONCURRENCY,
    envoyVars: UNLIMITED_CLIENT,
    // authn alone: the audit-logging parts are measured by bench:logging.
    logging: false,
  });
  let alone: Started<EnvoyInfo> | undefined;
  let authnOnly: Started<EnvoyInfo> | undefined;
  try {
    const render = (port: number, admin: number): string => benchFrontProxyYaml(stack, port, admin);
    const alonePort = await freePort();
    const aloneAdmin = await freePort();
    const aloneConfig = withoutExtProc(render(alonePort, aloneAdmin));
    alone = await infraBackend().envoy({
      name: 'bench-envoy-alone',
      configYaml: aloneConfig.yaml,
      adminPort: aloneAdmin,
      readyPorts: [alonePort],
      concurrency: ENVOY_CONCURRENCY,
    });
    // authn alone: the same front proxy with the idempotency filter off on every route.
    const authnPort = await freePort();
    const authnAdmin = await freePort();
    authnOnly = await infraBackend().envoy({
      name: 'bench-envoy-authn',
      configYaml: withoutExtProc(render(authnPort, authnAdmin), [
        'envoy.filters.http.ext_proc.idempotency',
      ]).yaml,
      adminPort: authnAdmin,
      readyPorts: [authnPort],
      concurrency: ENVOY_CONCURRENCY,
    });

    const root = await json<RootKey>(
      await fetch(`${stack.authUrl}/create-root-key`),
      'create-root-key',
    );
    const basic = `Basic ${Buffer.from(`${root.key_id}:${root.secret}`).toString('base64')}`;
    const { access_token: jwt } = await json<{ access_token: string }>(
      await fetch(`${stack.authUrl}/token`, { method: 'POST', headers: { authorization: basic } }),
      'POST /token',
    );

    const scenarios: Scenario[] = [
      {
        name: 'Envoy alone (front-proxy config, ext_proc disabled on routes)',
        base: `http://127.0.0.1:${alonePort}`,
        adminPort: aloneAdmin,
        // The same request bytes as the Basic row; Envoy alone just forwards the header.
        headers: { authorization: basic },
        authn: false,
      },
      {
        name: '+ authn processor, HTTP Basic (key cache warm)',
        base: `http://127.0.0.1:${authnPort}`,
        adminPort: authnAdmin,
        headers: { authorization: basic },
        authn: true,
      },
      {
        name: '+ authn processor, Bearer JWT ES256 (JWKS cached)',
        base: `http://127.0.0.1:${authnPort}`,
        adminPort: authnAdmin,
        headers: { authorization: `Bearer ${jwt}` },
        authn: true,
      },
    ];
    for (const s of scenarios) await sanityCheck(s, root.tenant);

    const bin = wrkBin();
    const load = (s: Scenario, seconds: number): Promise<LoadResult> =>
      bin !== undefined
        ? wrk(bin, s.base + PATH, seconds, CONNECTIONS, { headers: s.headers })
        : autocannon(s.base + PATH, seconds, CONNECTIONS, { headers: s.headers });

    const authnPid = descendantPid(/apps\/authn-processor\/dist\/main\.js/);
    const envoyOf = (s: Scenario): number =>
      descendantPid(new RegExp(`"port_value":${s.adminPort}\\b`));
    const rows: Row[] = [];
    for (const s of scenarios) {
      await load(s, WARMUP);
      const before = await counters(s.adminPort);
      const r = await withCpu(envoyOf(s), authnPid, () => load(s, DURATION));
      const after = await counters(s.adminPort);
      const d = (k: string): number => delta(before, after, k);
      const completed = d('http.front.downstream_rq_completed');
      rows.push({
        name: s.name,
        ...r,
        extProcPerRequest:
          completed > 0 ? d('cluster.authn_processor.upstream_rq_total') / completed : NaN,
        statusClasses: ['2xx', '4xx', '5xx']
          .map((c) => `${c}=${d(`http.front.downstream_rq_${c}`)}`)
          .join(' '),
      });
    }
    if (rows[0]!.extProcPerRequest !== 0) {
      throw new Error(`Envoy alone called the processor (${rows[0]!.extProcPerRequest}/request)`);
    }

    const fixed: (FixedRateResult & { name: string; cpu: CpuPerRequest })[] = [];
    for (const s of scenarios) {
      await fixedRate(s.base + PATH, FIXED_RATE, WARMUP, { headers: s.headers });
      fixed.push({
        name: s.name,
        ...(await withCpu(envoyOf(s), authnPid, () =>
          fixedRate(s.base + PATH, FIXED_RATE, DURATION, { headers: s.headers }),
        )),
      });
    }

    const cpu = cpus()[0]?.model ?? 'unknown';
    console.log(
      `\nmachine: ${cpus().length} CPUs, ${cpu}; node ${process.version}; Envoy --concurrency ${ENVOY_CONCURRENCY}`,
    );
    console.log(
      `load: ${bin !== undefined ? `wrk -t1 -c${CONNECTIONS}` : `autocannon -c${CONNECTIONS}`} GET ${PATH}, ${DURATION}s per row after ${WARMUP}s warm-up`,
    );
    console.log(`Envoy alone: ${aloneConfig.disabled.join(', ')} disabled on every route\n`);
    console.log(
      '| scenario | requests/s | p50 ms | p99 ms | ratio to Envoy alone | non-2xx | ext_proc streams/request | Envoy CPU µs/req | authn processor CPU µs/req |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    const procUs = (r: { name: string; cpu: CpuPerRequest }): string =>
      r === rows[0] || r === fixed[0] ? '-' : r.cpu.authnUs.toFixed(0);
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(3)} | ${r.p99ms.toFixed(3)} | ${(r.rps / rows[0]!.rps).toFixed(2)} | ${r.errors} | ${r.extProcPerRequest.toFixed(2)} | ${r.cpu.envoyUs.toFixed(0)} | ${procUs(r)} |`,
      );
    }
    for (const r of rows.filter((x) => x.errors > 0)) {
      console.log(`non-2xx in "${r.name}": Envoy status classes ${r.statusClasses}`);
    }
    console.log(
      `\nfixed rate ${FIXED_RATE} req/s, 16 connections, ${DURATION}s after ${WARMUP}s warm-up (open loop, µs timer):\n`,
    );
    console.log(
      '| scenario | achieved req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | Envoy CPU µs/req | authn processor CPU µs/req |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const f of fixed) {
      console.log(
        `| ${f.name} | ${f.rps.toFixed(0)} | ${(f.p50us / 1000).toFixed(3)} | ${(f.p99us / 1000).toFixed(3)} | ${((f.p50us - fixed[0]!.p50us) / 1000).toFixed(3)} | ${((f.p99us - fixed[0]!.p99us) / 1000).toFixed(3)} | ${f.errors} | ${f.cpu.envoyUs.toFixed(0)} | ${procUs(f)} |`,
      );
    }
    console.log(
      `\n(the issue-13 goal compares authn's p99 at ${FIXED_RATE} req/s with the header processor's in bench:core: within 1 ms; load average at the end ${loadavg()[0]!.toFixed(2)})`,
    );
  } finally {
    await alone?.stop();
    await authnOnly?.stop();
    await stack.stop();
  }
  if (AUTHN_CPU_PROF) console.log(`\nauthn processor CPU profile: ${AUTHN_CPU_PROF}/*.cpuprofile`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
