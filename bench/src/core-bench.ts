// `pnpm --filter @edge/bench bench:core`: Envoy alone vs Envoy + a processor-core processor
// (request headers) vs the same header processor written on the official Go stack (grpc-go,
// `go-reference/`) vs the TS processor also buffering the request body. Load comes from a
// separate process at 127.0.0.1: wrk (closed loop, max throughput) when installed, else
// autocannon; then a fixed moderate rate (open loop, µs latency) for the added p50. Each
// measured row also reads the CPU time (utime + stime, /proc/<pid>/stat) of Envoy, the
// ext_proc server and the upstream, and the whole machine's busy time (/proc/stat).
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildEnvoyConfig } from '@edge/processor-core/testing';
import { freePort, infraBackend } from '@edge/testkit';
import { autocannon, fixedRate, wrk, wrkBin } from './load';
import { envoyPid, machineCpu, procCpuSeconds } from './cpu';

const run = promisify(execFile);
const DURATION = Number(process.env.EDGE_BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.EDGE_BENCH_CONNECTIONS ?? 32);
const FIXED_RATE = Number(process.env.EDGE_BENCH_RATE ?? 1000);
const POST_BODY = JSON.stringify({ hello: 'world', items: [1, 2, 3], note: 'a small JSON body' });

interface Row {
  name: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  cpu?: CpuUse;
}

interface CpuUse {
  /** CPU µs per request (`proc*` undefined when the row has no processor). */
  envoyUs: number;
  procUs: number | undefined;
  upstreamUs: number;
  /** Everything else on the machine (wrk, the kernel's share not charged to these, other tenants). */
  restUs: number;
  /** The whole machine's busy CPU time per request. */
  machineUs: number;
  /** Cores used by each process over the window (1.00 = one core). */
  envoyCores: number;
  procCores: number | undefined;
  /** Whole machine: busy and steal as a share of all CPUs. */
  machineBusy: number;
  machineSteal: number;
}

/** Runs `measure` and reads the CPU the given processes used meanwhile. */
async function withCpu<T extends { rps: number }>(
  pids: { envoy: number; proc: number | undefined; upstream: number },
  measure: () => Promise<T>,
): Promise<T & { cpu: CpuUse }> {
  const snap = (): {
    e: number;
    p: number;
    u: number;
    m: ReturnType<typeof machineCpu>;
    t: bigint;
  } => ({
    e: procCpuSeconds(pids.envoy),
    p: pids.proc !== undefined ? procCpuSeconds(pids.proc) : 0,
    u: procCpuSeconds(pids.upstream),
    m: machineCpu(),
    t: process.hrtime.bigint(),
  });
  const a = snap();
  const r = await measure();
  const b = snap();
  const wall = Number(b.t - a.t) / 1e9;
  const reqs = r.rps * wall;
  const us = (s: number): number => (s * 1e6) / reqs;
  const mt = b.m.total - a.m.total;
  return {
    ...r,
    cpu: {
      envoyUs: us(b.e - a.e),
      procUs: pids.proc !== undefined ? us(b.p - a.p) : undefined,
      upstreamUs: us(b.u - a.u),
      restUs: us(b.m.busy - a.m.busy - (b.e - a.e) - (b.p - a.p) - (b.u - a.u)),
      machineUs: us(b.m.busy - a.m.busy),
      envoyCores: (b.e - a.e) / wall,
      procCores: pids.proc !== undefined ? (b.p - a.p) / wall : undefined,
      machineBusy: (b.m.busy - a.m.busy) / mt,
      machineSteal: (b.m.steal - a.m.steal) / mt,
    },
  };
}

/** Builds the Go reference ext_proc server (bench/go-reference) into dist/go-ext-proc. */
async function buildGoReference(): Promise<string> {
  const out = join(__dirname, 'go-ext-proc');
  try {
    await run('go', ['build', '-o', out, '.'], { cwd: join(__dirname, '..', 'go-reference') });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(
        'bench:core needs the Go toolchain (`go` on PATH) to build bench/go-reference, the Go reference ext_proc server',
      );
    throw new Error(`go build of bench/go-reference failed:\n${e.stderr ?? e.message}`);
  }
  return out;
}

/** Starts the Go reference server with GOMAXPROCS=n; resolves once it prints `ready`. */
function goChild(bin: string, port: number, maxProcs: number): Promise<ChildProcess> {
  const c = spawn(bin, [String(port)], {
    env: { ...process.env, GOMAXPROCS: String(maxProcs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    c.stdout.once('data', () => resolve(c));
    c.once('error', reject);
    c.once('exit', (code) => reject(new Error(`go-ext-proc exited ${code}`)));
  });
}

function child(script: string, port: number): Promise<ChildProcess> {
  const c = fork(join(__dirname, script), [String(port)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    c.once('message', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

async function main(): Promise<void> {
  const goBin = await buildGoReference();
  const upstreamPort = await freePort();
  const procPort = await freePort();
  const go1Port = await freePort();
  const go2Port = await freePort();
  const listenerPort = await freePort();
  const upstream = await child('upstream.js', upstreamPort);
  const tsProc = await child('processor-server.js', procPort);
  // GOMAXPROCS=1: one OS thread runs Go code at a time, like Node's one JS thread (both still
  // have runtime helper threads: Go's sysmon, Node's libuv pool and GC threads).
  const go1 = await goChild(goBin, go1Port, 1);
  const go2 = await goChild(goBin, go2Port, 2);
  const kids = [upstream, tsProc, go1, go2];
  // Every ext_proc filter is in the chain of every route and disabled per route except the one
  // the row is about, so all rows go through the same chain; the Go filters have the same
  // settings (default mode: request headers only) as `headers`.
  const filters = ['headers', 'body', 'go1', 'go2'];
  const only = (...on: string[]): string[] => filters.filter((f) => !on.includes(f));
  const configYaml = buildEnvoyConfig({
    listenerPort,
    upstreamPort,
    routes: [
      { prefix: '/direct', disableExtProc: true },
      { prefix: '/headers', disableExtProc: only('headers') },
      { prefix: '/go1/headers', disableExtProc: only('go1') },
      { prefix: '/go2/headers', disableExtProc: only('go2') },
      { prefix: '/body', disableExtProc: only('body') },
    ],
    extProcs: [
      { name: 'headers', port: procPort, messageTimeoutMs: 2000 },
      { name: 'body', port: procPort, mode: { requestBody: 'buffered' }, messageTimeoutMs: 2000 },
      { name: 'go1', port: go1Port, messageTimeoutMs: 2000 },
      { name: 'go2', port: go2Port, messageTimeoutMs: 2000 },
    ],
  });
  const envoy = await infraBackend().envoy({
    name: 'bench-envoy',
    configYaml,
    readyPorts: [listenerPort],
    concurrency: 1,
    logLevel: 'error',
  });
  const bin = wrkBin();
  const load = (url: string, s: number, post: boolean): Promise<Omit<Row, 'name'>> =>
    bin !== undefined
      ? wrk(bin, url, s, CONNECTIONS, post ? { body: POST_BODY } : {})
      : autocannon(url, s, CONNECTIONS, post ? { body: POST_BODY } : {});
  const base = `http://127.0.0.1:${listenerPort}`;
  const scenarios = [
    { name: 'Envoy -> upstream (GET)', path: '/direct', post: false, proc: undefined },
    {
      name: '+ processor-core, request headers (GET)',
      path: '/headers',
      post: false,
      proc: tsProc,
    },
    {
      name: '+ Go reference ext_proc (grpc-go, GOMAXPROCS=1), request headers (GET)',
      path: '/go1/headers',
      post: false,
      proc: go1,
    },
    {
      name: '+ Go reference ext_proc (grpc-go, GOMAXPROCS=2), request headers (GET)',
      path: '/go2/headers',
      post: false,
      proc: go2,
    },
    { name: 'Envoy -> upstream (POST small body)', path: '/direct', post: true, proc: undefined },
    {
      name: '+ processor-core, headers + BUFFERED body (POST)',
      path: '/body',
      post: true,
      proc: tsProc,
    },
  ];
  const pids = (proc: ChildProcess | undefined) => ({
    envoy: envoyPid(),
    proc: proc?.pid,
    upstream: upstream.pid!,
  });
  const rows: Row[] = [];
  try {
    for (const s of scenarios) {
      await load(base + s.path, WARMUP, s.post);
      const r = await withCpu(pids(s.proc), () => load(base + s.path, DURATION, s.post));
      rows.push({ name: s.name, ...r });
    }
    const fixed = [];
    for (const s of [scenarios[0]!, scenarios[1]!, scenarios[2]!]) {
      await fixedRate(base + s.path, FIXED_RATE, DURATION, s.post ? { body: POST_BODY } : {});
      fixed.push({
        name: s.name,
        ...(await fixedRate(
          base + s.path,
          FIXED_RATE,
          DURATION,
          s.post ? { body: POST_BODY } : {},
        )),
      });
    }

    const cpu = cpus()[0]?.model ?? 'unknown';
    console.log(
      `\nmachine: ${cpus().length} CPUs, ${cpu}; node ${process.version}; Envoy --concurrency 1`,
    );
    console.log(
      `load: ${bin !== undefined ? `wrk -t1 -c${CONNECTIONS}` : `autocannon -c${CONNECTIONS}`}, ${DURATION}s per row after ${WARMUP}s warm-up\n`,
    );
    const alone = (r: Row): Row => (r.name.includes('POST') ? rows[4]! : rows[0]!);
    console.log('| scenario | requests/s | p50 ms | p99 ms | ratio to Envoy alone | non-2xx |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(3)} | ${r.p99ms.toFixed(3)} | ${(r.rps / alone(r).rps).toFixed(2)} | ${r.errors} |`,
      );
    }
    console.log(
      '\nCPU over each measured window (user + system, all threads; µs per request = CPU time / requests completed):\n',
    );
    console.log(
      '| scenario | Envoy µs/req | processor µs/req | upstream µs/req | rest µs/req (wrk, other) | machine µs/req | Envoy cores | processor cores | machine busy | steal |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
    for (const r of rows) {
      const c = r.cpu!;
      console.log(
        `| ${r.name} | ${c.envoyUs.toFixed(0)} | ${c.procUs?.toFixed(0) ?? '-'} | ${c.upstreamUs.toFixed(0)} | ${c.restUs.toFixed(0)} | ${c.machineUs.toFixed(0)} | ${c.envoyCores.toFixed(2)} | ${c.procCores?.toFixed(2) ?? '-'} | ${pct(c.machineBusy)} | ${pct(c.machineSteal)} |`,
      );
    }
    console.log(
      `\nfixed rate ${FIXED_RATE} req/s, 16 connections, ${DURATION}s (open loop, µs timer):\n`,
    );
    console.log('| scenario | achieved req/s | p50 ms | p99 ms | errors |');
    console.log('|---|---:|---:|---:|---:|');
    for (const f of fixed)
      console.log(
        `| ${f.name} | ${f.rps.toFixed(0)} | ${(f.p50us / 1000).toFixed(3)} | ${(f.p99us / 1000).toFixed(3)} | ${f.errors} |`,
      );
    const added = (fixed[1]!.p50us - fixed[0]!.p50us) / 1000;
    const addedGo = (fixed[2]!.p50us - fixed[0]!.p50us) / 1000;
    const ratio = rows[1]!.rps / rows[0]!.rps;
    console.log(
      `\nheader processor: ${(ratio * 100).toFixed(0)}% of Envoy-alone throughput (target >= 50%): ${ratio >= 0.5 ? 'MET' : 'MISSED'}`,
    );
    console.log(
      `Go reference (reference, no target): ${((rows[2]!.rps / rows[0]!.rps) * 100).toFixed(0)}% (GOMAXPROCS=1), ${((rows[3]!.rps / rows[0]!.rps) * 100).toFixed(0)}% (GOMAXPROCS=2); added p50 ${addedGo.toFixed(3)} ms (GOMAXPROCS=1)`,
    );
    console.log(
      `added p50 at ${FIXED_RATE} req/s: ${added.toFixed(3)} ms (target <= 0.5 ms): ${added <= 0.5 ? 'MET' : 'MISSED'}`,
    );
  } finally {
    await envoy.stop();
    for (const k of kids) k.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
