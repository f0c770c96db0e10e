// `pnpm --filter @edge/bench bench:authn`: the real front proxy (envoy/front-proxy.yaml, started
// with Postgres, auth, echo and the authn processor by @edge/e2e's startFrontProxyStack) with
// HTTP Basic and with Bearer JWT, steady state (key cache and JWKS warm), against the same Envoy
// config with ext_proc disabled on its routes ("Envoy alone") and with bench:core's header
// processor (processor-core, no Nest, no credentials checked) in the authn processor's place: the
// issue-13 goal compares authn's p99 with that row's, in the same run. Load comes from a separate
// process at 127.0.0.1 (wrk, else autocannon), then a fixed moderate rate for the added p50 and
// the p99; rows alternate over EDGE_BENCH_ROUNDS rounds.
import { type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { startFrontProxyStack } from '@edge/e2e';
import { benchFrontProxyYaml } from './bench-front-proxy';
import { freePort, infraBackend, type EnvoyInfo, type Started } from '@edge/testkit';
import { withoutExtProc } from './authn-envoy-alone';
import { forkReady } from './child';
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
import { medianBy } from './quantile';

const DURATION = Number(process.env.EDGE_BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.EDGE_BENCH_CONNECTIONS ?? 32);
const FIXED_RATE = Number(process.env.EDGE_BENCH_RATE ?? 1000);
const ENVOY_CONCURRENCY = Number(process.env.EDGE_BENCH_ENVOY_CONCURRENCY ?? 1);
const ROUNDS = Number(process.env.EDGE_BENCH_ROUNDS ?? 1);
/** Directory for a CPU profile of the authn processor (`node --cpu-prof`), written at stop. */
const AUTHN_CPU_PROF = process.env.EDGE_BENCH_AUTHN_CPU_PROF;
const PATH = '/api/v0/echo';
/** The issue-13 goal: authn's p99 at the fixed rate within this of the header processor's. */
const GOAL_MS = 1;

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
  /** What is in the authn filter's place: nothing, the bench's header processor, or authn. */
  kind: 'alone' | 'header' | 'authn';
  /** The process serving the ext_proc call (undefined for Envoy alone). */
  procPid?: number;
}

/** CPU µs per request of Envoy and of the ext_proc server over a measured window. */
interface CpuPerRequest {
  envoyUs: number;
  /** NaN for Envoy alone. */
  procUs: number;
}

/** Runs `measure`, returning its result with the CPU per request Envoy and the processor used. */
async function withCpu<T extends { rps: number }>(
  envoyPid: number,
  procPid: number | undefined,
  measure: () => Promise<T>,
): Promise<T & { cpu: CpuPerRequest }> {
  const t0 = process.hrtime.bigint();
  const e0 = procCpuSeconds(envoyPid);
  const p0 = procPid !== undefined ? procCpuSeconds(procPid) : NaN;
  const r = await measure();
  const reqs = (r.rps * Number(process.hrtime.bigint() - t0)) / 1e9;
  return {
    ...r,
    cpu: {
      envoyUs: ((procCpuSeconds(envoyPid) - e0) * 1e6) / reqs,
      procUs: procPid !== undefined ? ((procCpuSeconds(procPid) - p0) * 1e6) / reqs : NaN,
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

/**
 * One request per scenario before any load: 200, identity headers only with authn, and the
 * header processor's mark only when it is in the path.
 */
async function sanityCheck(s: Scenario, tenant: string): Promise<void> {
  const body = await json<{ headers: Record<string, unknown> }>(
    await fetch(s.base + PATH, { headers: s.headers }),
    s.name,
  );
  const seen = body.headers['x-tenant-id'];
  if (s.kind === 'authn' ? seen !== tenant : seen !== undefined) {
    throw new Error(`${s.name}: echo saw x-tenant-id=${String(seen)} (${s.kind})`);
  }
  if (s.kind === 'authn' && body.headers.authorization !== undefined) {
    throw new Error(`${s.name}: credentials reached the upstream`);
  }
  const mark = body.headers['x-bench-path'];
  if (s.kind === 'header' ? mark !== PATH : mark !== undefined) {
    throw new Error(`${s.name}: echo saw x-bench-path=${String(mark)} (${s.kind})`);
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
  const envoys: Started<EnvoyInfo>[] = [];
  let headerProc: ChildProcess | undefined;
  try {
    // Each row is the same rendered front proxy on its own ports, idempotency off on every route.
    const envoy = async (
      name: string,
      ports: typeof stack.ports,
      only?: readonly string[],
    ): Promise<{ port: number; admin: number; disabled: string[] }> => {
      const port = await freePort();
      const admin = await freePort();
      const config = withoutExtProc(benchFrontProxyYaml({ ports }, port, admin), only);
      envoys.push(
        await infraBackend().envoy({
          name,
          configYaml: config.yaml,
          adminPort: admin,
          readyPorts: [port],
          concurrency: ENVOY_CONCURRENCY,
        }),
      );
      return { port, admin, disabled: config.disabled };
    };
    const noIdempotency = ['envoy.filters.http.ext_proc.idempotency'];
    const alone = await envoy('bench-envoy-alone', stack.ports);
    const authnOnly = await envoy('bench-envoy-authn', stack.ports, noIdempotency);
    // bench:core's header processor (processor-core's node:http2 transport, no Nest) in the
    // authn processor's place: the same filter, cluster and Envoy config, a trivial hook.
    const headerPort = await freePort();
    headerProc = await forkReady('processor-server.js', [headerPort, 'http2']);
    const headerOnly = await envoy(
      'bench-envoy-header',
      { ...stack.ports, authn: headerPort },
      noIdempotency,
    );

    const root = await json<RootKey>(
      await fetch(`${stack.authUrl}/create-root-key`),
      'create-root-key',
    );
    const basic = `Basic ${Buffer.from(`${root.key_id}:${root.secret}`).toString('base64')}`;
    const { access_token: jwt } = await json<{ access_token: string }>(
      await fetch(`${stack.authUrl}/token`, { method: 'POST', headers: { authorization: basic } }),
      'POST /token',
    );

    const authnPid = descendantPid(/apps\/authn-processor\/dist\/main\.js/);
    const scenarios: Scenario[] = [
      {
        name: 'Envoy alone (front-proxy config, ext_proc disabled on routes)',
        base: `http://127.0.0.1:${alone.port}`,
        adminPort: alone.admin,
        // The same request bytes as the Basic row; Envoy alone just forwards the header.
        headers: { authorization: basic },
        kind: 'alone',
      },
      {
        name: "+ bench:core's header processor in authn's place (no credentials checked)",
        base: `http://127.0.0.1:${headerOnly.port}`,
        adminPort: headerOnly.admin,
        headers: { authorization: basic },
        kind: 'header',
        procPid: headerProc.pid,
      },
      {
        name: '+ authn processor, HTTP Basic (key cache warm)',
        base: `http://127.0.0.1:${authnOnly.port}`,
        adminPort: authnOnly.admin,
        headers: { authorization: basic },
        kind: 'authn',
        procPid: authnPid,
      },
      {
        name: '+ authn processor, Bearer JWT ES256 (JWKS cached)',
        base: `http://127.0.0.1:${authnOnly.port}`,
        adminPort: authnOnly.admin,
        headers: { authorization: `Bearer ${jwt}` },
        kind: 'authn',
        procPid: authnPid,
      },
    ];
    for (const s of scenarios) await sanityCheck(s, root.tenant);

    const bin = wrkBin();
    const load = (s: Scenario, seconds: number): Promise<LoadResult> =>
      bin !== undefined
        ? wrk(bin, s.base + PATH, seconds, CONNECTIONS, { headers: s.headers })
        : autocannon(s.base + PATH, seconds, CONNECTIONS, { headers: s.headers });
    const envoyOf = (s: Scenario): number =>
      descendantPid(new RegExp(`"port_value":${s.adminPort}\\b`));

    // Rows alternate round by round; each reports its median round (saturation: by req/s;
    // fixed rate: by p99, the figure the goal compares).
    const rounds = scenarios.map((): Row[] => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, s] of scenarios.entries()) {
        await load(s, WARMUP);
        const before = await counters(s.adminPort);
        const r = await withCpu(envoyOf(s), s.procPid, () => load(s, DURATION));
        const after = await counters(s.adminPort);
        const d = (k: string): number => delta(before, after, k);
        const completed = d('http.front.downstream_rq_completed');
        rounds[i]!.push({
          name: s.name,
          ...r,
          extProcPerRequest:
            completed > 0 ? d('cluster.authn_processor.upstream_rq_total') / completed : NaN,
          statusClasses: ['2xx', '4xx', '5xx']
            .map((c) => `${c}=${d(`http.front.downstream_rq_${c}`)}`)
            .join(' '),
        });
      }
    }
    const rows = rounds.map((rs) => medianBy(rs, (r) => r.rps));
    if (rounds[0]!.some((r) => r.extProcPerRequest !== 0)) {
      throw new Error(`Envoy alone called the processor (${rows[0]!.extProcPerRequest}/request)`);
    }

    type Fixed = FixedRateResult & { name: string; cpu: CpuPerRequest };
    const fixedRounds = scenarios.map((): Fixed[] => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, s] of scenarios.entries()) {
        await fixedRate(s.base + PATH, FIXED_RATE, WARMUP, { headers: s.headers });
        fixedRounds[i]!.push({
          name: s.name,
          ...(await withCpu(envoyOf(s), s.procPid, () =>
            fixedRate(s.base + PATH, FIXED_RATE, DURATION, { headers: s.headers }),
          )),
        });
      }
    }
    const fixed = fixedRounds.map((fs) => medianBy(fs, (f) => f.p99us));

    const cpu = cpus()[0]?.model ?? 'unknown';
    console.log(
      `\nmachine: ${cpus().length} CPUs, ${cpu}; node ${process.version}; Envoy --concurrency ${ENVOY_CONCURRENCY}`,
    );
    console.log(
      `load: ${bin !== undefined ? `wrk -t1 -c${CONNECTIONS}` : `autocannon -c${CONNECTIONS}`} GET ${PATH}, ${DURATION}s per row after ${WARMUP}s warm-up, ${ROUNDS} round(s) round-robin, median round shown`,
    );
    console.log(
      `Envoy alone: ${alone.disabled.join(', ')} disabled on every route; the other rows: ${noIdempotency.join(', ')}\n`,
    );
    console.log(
      '| scenario | requests/s | p50 ms | p99 ms | ratio to Envoy alone | non-2xx | ext_proc streams/request | Envoy CPU µs/req | processor CPU µs/req |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    const procUs = (r: { cpu: CpuPerRequest }): string =>
      Number.isNaN(r.cpu.procUs) ? '-' : r.cpu.procUs.toFixed(0);
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(3)} | ${r.p99ms.toFixed(3)} | ${(r.rps / rows[0]!.rps).toFixed(2)} | ${r.errors} | ${r.extProcPerRequest.toFixed(2)} | ${r.cpu.envoyUs.toFixed(0)} | ${procUs(r)} |`,
      );
    }
    for (const r of rounds.flat().filter((x) => x.errors > 0)) {
      console.log(`non-2xx in "${r.name}": Envoy status classes ${r.statusClasses}`);
    }
    console.log(
      `\nfixed rate ${FIXED_RATE} req/s, 16 connections, ${DURATION}s after ${WARMUP}s warm-up (open loop, µs timer):\n`,
    );
    console.log(
      '| scenario | achieved req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | Envoy CPU µs/req | processor CPU µs/req |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const f of fixed) {
      console.log(
        `| ${f.name} | ${f.rps.toFixed(0)} | ${(f.p50us / 1000).toFixed(3)} | ${(f.p99us / 1000).toFixed(3)} | ${((f.p50us - fixed[0]!.p50us) / 1000).toFixed(3)} | ${((f.p99us - fixed[0]!.p99us) / 1000).toFixed(3)} | ${f.errors} | ${f.cpu.envoyUs.toFixed(0)} | ${procUs(f)} |`,
      );
    }
    const ms = (us: number): string => (us / 1000).toFixed(2);
    if (ROUNDS > 1) {
      console.log('\np99 ms at the fixed rate by round:');
      for (const fs of fixedRounds) {
        console.log(`- ${fs[0]!.name}: ${fs.map((f) => ms(f.p99us)).join(' / ')}`);
      }
    }
    // The goal, on this run: authn (Basic, Bearer) median p99 within GOAL_MS of the header row's.
    const header = fixed[1]!;
    console.log(
      `\nissue-13 goal, p99 at ${FIXED_RATE} req/s within ${GOAL_MS} ms of the header processor's (same run):`,
    );
    for (const i of [2, 3]) {
      const over = (fixed[i]!.p99us - header.p99us) / 1000;
      const byRound = fixedRounds[i]!.map((f, r) => ms(f.p99us - fixedRounds[1]![r]!.p99us));
      console.log(
        `- ${fixed[i]!.name}: ${ms(fixed[i]!.p99us)} vs ${ms(header.p99us)} ms (${over >= 0 ? '+' : ''}${over.toFixed(2)}): ${over <= GOAL_MS ? 'met' : 'missed'}${ROUNDS > 1 ? `; difference by round ${byRound.join(' / ')}` : ''}`,
      );
    }
    console.log(`\nload average at the end ${loadavg()[0]!.toFixed(2)}`);
  } finally {
    for (const e of envoys) await e.stop();
    headerProc?.kill('SIGTERM');
    await stack.stop();
  }
  if (AUTHN_CPU_PROF) console.log(`\nauthn processor CPU profile: ${AUTHN_CPU_PROF}/*.cpuprofile`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
