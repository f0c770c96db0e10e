// `pnpm --filter @edge/bench bench:core`: Envoy alone vs Envoy + a processor-core processor
// (request headers) vs the same header processor written on the official Go stack (grpc-go,
// `go-reference/`) vs the TS processor also buffering the request body. Load comes from a
// separate process at 127.0.0.1: wrk (closed loop, max throughput) when installed, else
// autocannon; then a fixed moderate rate (open loop, µs latency) for the added p50. Each
// measured row also reads the CPU time (utime + stime, /proc/<pid>/stat) of Envoy, the
// ext_proc server and the upstream, and the whole machine's busy time (/proc/stat).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildEnvoyConfig } from '@edge/processor-core/testing';
import { freePort, infraBackend } from '@edge/testkit';
import { forkReady } from './child';
import { envoyPid, machineCpu, procCpuSeconds, procSyscalls } from './cpu';
import {
  printExtProcLatency,
  summarizeExtProcLatency,
  withExtProcLatencyLog,
  type Window,
} from './ext-proc-latency';
import { autocannon, fixedRate, wrk, wrkBin, type FixedRateResult } from './load';
import { printGcOverlap } from './gc-overlap';
import { medianBy } from './quantile';
import { printSched, startSchedRecord, summarizeSched, type SchedRow } from './sched-delay';

const run = promisify(execFile);
const DURATION = Number(process.env.EDGE_BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.EDGE_BENCH_CONNECTIONS ?? 32);
const FIXED_RATE = Number(process.env.EDGE_BENCH_RATE ?? 1000);
const ROUNDS = Number(process.env.EDGE_BENCH_ROUNDS ?? 1);

const POST_BODY = JSON.stringify({ hello: 'world', items: [1, 2, 3], note: 'a small JSON body' });

interface Row {
  id: string;
  name: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  cpu?: CpuUse;
}

interface Scenario {
  id: string;
  name: string;
  path: string;
  post: boolean;
  proc?: ChildProcess;
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
  /** GC pauses of a TS processor per 1000 requests (count, ms); undefined for the others. */
  gcPerK: { count: number; ms: number } | undefined;
  /** Envoy's read calls and the processor's write calls per request (/proc/<pid>/io). */
  envoyReads: number;
  procWrites: number | undefined;
}

/** GC pauses so far of a TS ext_proc server (processor-server.ts answers 'gc' over IPC). */
function gcStats(c: ChildProcess | undefined): Promise<{ count: number; ms: number } | undefined> {
  if (c?.send === undefined || !c.connected) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    c.once('message', (m) => resolve(m as { count: number; ms: number }));
    c.send('gc');
  });
}

/** Runs `measure` and reads the CPU the given processes used meanwhile. */
async function withCpu<T extends { rps: number }>(
  pids: { envoy: number; proc: number | undefined; upstream: number; child?: ChildProcess },
  measure: () => Promise<T>,
): Promise<T & { cpu: CpuUse }> {
  const snap = (): {
    e: number;
    p: number;
    u: number;
    m: ReturnType<typeof machineCpu>;
    t: bigint;
    er: number;
    pw: number;
  } => ({
    er: procSyscalls(pids.envoy).reads,
    pw: pids.proc !== undefined ? procSyscalls(pids.proc).writes : 0,
    e: procCpuSeconds(pids.envoy),
    p: pids.proc !== undefined ? procCpuSeconds(pids.proc) : 0,
    u: procCpuSeconds(pids.upstream),
    m: machineCpu(),
    t: process.hrtime.bigint(),
  });
  const ga = await gcStats(pids.child);
  const a = snap();
  const r = await measure();
  const b = snap();
  const gb = await gcStats(pids.child);
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
      gcPerK:
        ga !== undefined && gb !== undefined
          ? { count: ((gb.count - ga.count) * 1000) / reqs, ms: ((gb.ms - ga.ms) * 1000) / reqs }
          : undefined,
      envoyReads: (b.er - a.er) / reqs,
      procWrites: pids.proc !== undefined ? (b.pw - a.pw) / reqs : undefined,
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

async function main(): Promise<void> {
  const goBin = await buildGoReference();
  const upstreamPort = await freePort();
  const procPort = await freePort();
  const go1Port = await freePort();
  const go2Port = await freePort();
  const listenerPort = await freePort();
  const upstream = await forkReady('upstream.js', [upstreamPort]);
  // EDGE_BENCH_CPU_PROF=DIR: the TS ext_proc server runs under `node --cpu-prof` (profile
  // written to DIR when the bench stops it).
  const prof = process.env.EDGE_BENCH_CPU_PROF;
  // EDGE_BENCH_NODE_ARGS: extra node flags for the TS ext_proc server (e.g. V8 GC flags).
  const nodeArgs = (process.env.EDGE_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const tsProc = await forkReady(
    'processor-server.js',
    [procPort, 'http2'],
    [...nodeArgs, ...(prof !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])],
  );
  // EDGE_BENCH_NODE_ARGS_B="--flag ...": a second node:http2 TS server with these node flags, as
  // row `tsB` (the same processor behind its own filter and route), measured interleaved with
  // the others: a flag A/B inside one run, on a machine whose speed drifts between runs.
  const nodeArgsB = process.env.EDGE_BENCH_NODE_ARGS_B?.split(' ').filter((a) => a !== '');
  const procBPort = await freePort();
  const tsProcB =
    nodeArgsB !== undefined
      ? await forkReady('processor-server.js', [procBPort, 'http2'], nodeArgsB)
      : undefined;
  // Node's floor: a bare node:http2 server answering a pre-encoded CONTINUE (no processor-core).
  const barePort = await freePort();
  const bareProc = await forkReady('bare-http2-server.js', [barePort]);
  // The same processors on the grpc-js transport (what processor-core used before issue 13).
  const grpcJsPort = await freePort();
  const grpcJsProc = await forkReady('processor-server.js', [grpcJsPort, 'grpc-js']);
  // GOMAXPROCS=1: one OS thread runs Go code at a time, like Node's one JS thread (both still
  // have runtime helper threads: Go's sysmon, Node's libuv pool and GC threads).
  const go1 = await goChild(goBin, go1Port, 1);
  const go2 = await goChild(goBin, go2Port, 2);
  const kids = [
    upstream,
    tsProc,
    bareProc,
    grpcJsProc,
    go1,
    go2,
    ...(tsProcB !== undefined ? [tsProcB] : []),
  ];
  // Every ext_proc filter is in the chain of every route and disabled per route except the one
  // the row is about, so all rows go through the same chain; the Go filters have the same
  // settings (default mode: request headers only) as `headers`.
  const filters = ['headers', 'body', 'go1', 'go2', 'grpcjs', 'bare'];
  if (tsProcB !== undefined) filters.push('headersB');
  const only = (...on: string[]): string[] => filters.filter((f) => !on.includes(f));
  // EDGE_BENCH_EXT_PROC_LOG=FILE: per-request durations and ext_proc call latencies as Envoy
  // timed them, summarized per fixed-rate window (ext-proc-latency.ts).
  const extProcLog = process.env.EDGE_BENCH_EXT_PROC_LOG;
  const baseConfig = buildEnvoyConfig({
    listenerPort,
    upstreamPort,
    routes: [
      { prefix: '/direct', disableExtProc: true },
      { prefix: '/headers', disableExtProc: only('headers') },
      { prefix: '/go1/headers', disableExtProc: only('go1') },
      { prefix: '/go2/headers', disableExtProc: only('go2') },
      { prefix: '/body', disableExtProc: only('body') },
      { prefix: '/grpcjs/headers', disableExtProc: only('grpcjs') },
      { prefix: '/bare/headers', disableExtProc: only('bare') },
      ...(tsProcB !== undefined
        ? [{ prefix: '/b/headers', disableExtProc: only('headersB') }]
        : []),
    ],
    extProcs: [
      { name: 'headers', port: procPort, messageTimeoutMs: 2000 },
      { name: 'body', port: procPort, mode: { requestBody: 'buffered' }, messageTimeoutMs: 2000 },
      { name: 'go1', port: go1Port, messageTimeoutMs: 2000 },
      { name: 'go2', port: go2Port, messageTimeoutMs: 2000 },
      { name: 'grpcjs', port: grpcJsPort, selector: 'headers', messageTimeoutMs: 2000 },
      { name: 'bare', port: barePort, messageTimeoutMs: 2000 },
      ...(tsProcB !== undefined
        ? [{ name: 'headersB', port: procBPort, selector: 'headers', messageTimeoutMs: 2000 }]
        : []),
    ],
  });
  const configYaml =
    extProcLog !== undefined ? withExtProcLatencyLog(baseConfig, extProcLog, filters) : baseConfig;
  const fixedWindows: Window[] = [];
  // EDGE_BENCH_PERF_SCHED=DIR: `perf sched record` over each fixed-rate window (files in DIR),
  // then each process's scheduler delay (woken → running) and runs per request (sched-delay.ts).
  const schedDir = process.env.EDGE_BENCH_PERF_SCHED;
  const schedRows: SchedRow[] = [];
  const envoy = await infraBackend().envoy({
    name: 'bench-envoy',
    configYaml,
    readyPorts: [listenerPort],
    concurrency: 1,
    logLevel: 'error',
  });
  const bin = wrkBin();
  const load = (url: string, s: number, post: boolean): Promise<Omit<Row, 'id' | 'name'>> =>
    bin !== undefined
      ? wrk(bin, url, s, CONNECTIONS, post ? { body: POST_BODY } : {})
      : autocannon(url, s, CONNECTIONS, post ? { body: POST_BODY } : {});
  const base = `http://127.0.0.1:${listenerPort}`;
  const scenarios: Scenario[] = [
    { id: 'alone', name: 'Envoy -> upstream (GET)', path: '/direct', post: false },
    {
      id: 'ts',
      name: '+ processor-core (node:http2 transport), request headers (GET)',
      path: '/headers',
      post: false,
      proc: tsProc,
    },
    ...(tsProcB !== undefined
      ? [
          {
            id: 'tsB',
            name: `+ processor-core (node:http2 transport, node ${nodeArgsB!.join(' ')}), request headers (GET)`,
            path: '/b/headers',
            post: false,
            proc: tsProcB,
          },
        ]
      : []),
    {
      id: 'bare',
      name: '+ bare node:http2 server, pre-encoded CONTINUE (no processor-core), request headers (GET)',
      path: '/bare/headers',
      post: false,
      proc: bareProc,
    },
    {
      id: 'grpcjs',
      name: "+ processor-core (transport: 'grpc-js'), request headers (GET)",
      path: '/grpcjs/headers',
      post: false,
      proc: grpcJsProc,
    },
    {
      id: 'go1',
      name: '+ Go reference ext_proc (grpc-go, GOMAXPROCS=1), request headers (GET)',
      path: '/go1/headers',
      post: false,
      proc: go1,
    },
    {
      id: 'go2',
      name: '+ Go reference ext_proc (grpc-go, GOMAXPROCS=2), request headers (GET)',
      path: '/go2/headers',
      post: false,
      proc: go2,
    },
    { id: 'alonePost', name: 'Envoy -> upstream (POST small body)', path: '/direct', post: true },
    {
      id: 'body',
      name: '+ processor-core, headers + BUFFERED body (POST)',
      path: '/body',
      post: true,
      proc: tsProc,
    },
  ];
  const byId = (id: string): Scenario => scenarios.find((s) => s.id === id)!;
  // EDGE_BENCH_ROWS=alone,ts,go1: measure only these rows (for quick iterations; the goal
  // summary needs alone, ts, grpcjs, go1 and go2).
  const wanted = process.env.EDGE_BENCH_ROWS?.split(',');
  const selected =
    wanted === undefined ? scenarios : scenarios.filter((s) => wanted.includes(s.id));
  const pids = (proc: ChildProcess | undefined) => ({
    envoy: envoyPid(),
    proc: proc?.pid,
    upstream: upstream.pid!,
    child: proc,
  });
  const rows: Row[] = [];
  try {
    // Rows run round-robin EDGE_BENCH_ROUNDS times; each row reports its median round (by
    // req/s, or by p99 at the fixed rate), so one load spike on a shared box moves one round.
    const rounds = new Map<string, Row[]>(selected.map((s) => [s.id, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of selected) {
        await load(base + s.path, WARMUP, s.post);
        const r = await withCpu(pids(s.proc), () => load(base + s.path, DURATION, s.post));
        rounds.get(s.id)!.push({ id: s.id, name: s.name, ...r });
      }
    }
    for (const s of selected) rows.push(medianBy(rounds.get(s.id)!, (r) => r.rps));
    type Fixed = FixedRateResult & { id: string; name: string; cpu: CpuUse };
    const fixedIds = ['alone', 'ts', 'tsB', 'bare', 'grpcjs', 'go1']
      .map(byId)
      .filter((x) => selected.includes(x));
    const fixedRounds = new Map<string, Fixed[]>(fixedIds.map((s) => [s.id, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of fixedIds) {
        await fixedRate(base + s.path, FIXED_RATE, WARMUP, {});
        const schedFile =
          schedDir !== undefined ? join(schedDir, `${s.id}-${round + 1}.data`) : undefined;
        const rec = schedFile !== undefined ? startSchedRecord(schedFile) : undefined;
        if (rec !== undefined) await new Promise((r) => setTimeout(r, 500));
        const from = Date.now() / 1000;
        // A failed window must not leave perf recording the whole machine.
        const result = await withCpu(pids(s.proc), () =>
          fixedRate(base + s.path, FIXED_RATE, DURATION, {}),
        ).finally(() => rec?.stop());
        fixedRounds.get(s.id)!.push({ id: s.id, name: s.name, ...result });
        if (rec !== undefined && schedFile !== undefined) {
          schedRows.push({
            name: `${s.name}, round ${round + 1}`,
            requests: result.rps * DURATION,
            summaries: summarizeSched(schedFile, [
              { label: 'Envoy worker', pid: envoyPid(), threadPrefix: 'wrk:worker' },
              ...(s.proc?.pid !== undefined
                ? [
                    { label: 'processor, main thread', pid: s.proc.pid, mainOnly: true },
                    { label: 'processor, all threads', pid: s.proc.pid },
                  ]
                : []),
              { label: 'upstream', pid: upstream.pid!, mainOnly: true },
            ]),
          });
        }
        fixedWindows.push({
          id: s.id,
          name: `${s.name}, round ${round + 1}`,
          from,
          to: Date.now() / 1000,
        });
      }
    }
    const fixed = fixedIds.map((s) => medianBy(fixedRounds.get(s.id)!, (f) => f.p99us));
    if (ROUNDS > 1) {
      console.log(`\nevery round (req/s; processor µs/req; p99 ms at ${FIXED_RATE} req/s):`);
      for (const s of selected) {
        const rs = rounds.get(s.id)!;
        const fs = fixedRounds.get(s.id);
        console.log(
          `- ${s.name}: ${rs.map((r) => `${r.rps.toFixed(0)}; ${r.cpu?.procUs?.toFixed(0) ?? '-'} µs`).join(' / ')}${fs !== undefined ? `; p99 ${fs.map((f) => (f.p99us / 1000).toFixed(2)).join(' / ')}` : ''}`,
        );
      }
    }
    const row = (id: string): Row => rows.find((r) => r.id === id)!;
    const has = (...ids: string[]): boolean => ids.every((id) => rows.some((r) => r.id === id));
    const fix = (id: string): FixedRateResult => fixed.find((r) => r.id === id)!;

    const cpu = cpus()[0]?.model ?? 'unknown';
    const load1 = loadavg()[0]!.toFixed(2);
    console.log(
      `\nmachine: ${cpus().length} CPUs, ${cpu}; node ${process.version}; Envoy --concurrency 1; load average at the end ${load1}`,
    );
    console.log(
      `load: ${bin !== undefined ? `wrk -t1 -c${CONNECTIONS}` : `autocannon -c${CONNECTIONS}`}, ${DURATION}s per row after ${WARMUP}s warm-up, ${ROUNDS} round(s) round-robin, median round shown\n`,
    );
    const alone = (r: Row): Row | undefined =>
      rows.find((x) => x.id === (r.name.includes('POST') ? 'alonePost' : 'alone'));
    console.log(
      '| scenario | requests/s | p50 ms | p99 ms | ratio to Envoy alone | ratio to Go (GOMAXPROCS=1) | non-2xx |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const toGo =
        r.name.includes('POST') || !has('go1') ? '-' : (r.rps / row('go1').rps).toFixed(2);
      console.log(
        `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(3)} | ${r.p99ms.toFixed(3)} | ${alone(r) !== undefined ? (r.rps / alone(r)!.rps).toFixed(2) : '-'} | ${toGo} | ${r.errors} |`,
      );
    }
    console.log(
      '\nCPU over each measured window (user + system, all threads; µs per request = CPU time / requests completed):\n',
    );
    console.log(
      '| scenario | Envoy µs/req | processor µs/req | upstream µs/req | rest µs/req (wrk, other) | machine µs/req | Envoy cores | processor cores | machine busy | steal | processor GC per 1k req (pauses / ms) |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
    for (const r of rows) {
      const c = r.cpu!;
      console.log(
        `| ${r.name} | ${c.envoyUs.toFixed(0)} | ${c.procUs?.toFixed(0) ?? '-'} | ${c.upstreamUs.toFixed(0)} | ${c.restUs.toFixed(0)} | ${c.machineUs.toFixed(0)} | ${c.envoyCores.toFixed(2)} | ${c.procCores?.toFixed(2) ?? '-'} | ${pct(c.machineBusy)} | ${pct(c.machineSteal)} | ${c.gcPerK !== undefined ? `${c.gcPerK.count.toFixed(1)} / ${c.gcPerK.ms.toFixed(1)}` : '-'} |`,
      );
    }
    console.log(
      `\nfixed rate ${FIXED_RATE} req/s, 16 connections, ${DURATION}s after ${WARMUP}s warm-up (open loop, µs timer):\n`,
    );
    console.log(
      '| scenario | achieved req/s | p50 ms | p99 ms | errors | Envoy µs/req | processor µs/req | processor GC per 1k req | machine busy | Envoy reads/req | processor writes/req |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const gc = (c: CpuUse): string =>
      c.gcPerK !== undefined ? `${c.gcPerK.count.toFixed(1)} / ${c.gcPerK.ms.toFixed(1)} ms` : '-';
    for (const f of fixed)
      console.log(
        `| ${f.name} | ${f.rps.toFixed(0)} | ${(f.p50us / 1000).toFixed(3)} | ${(f.p99us / 1000).toFixed(3)} | ${f.errors} | ${f.cpu.envoyUs.toFixed(0)} | ${f.cpu.procUs?.toFixed(0) ?? '-'} | ${gc(f.cpu)} | ${pct(f.cpu.machineBusy)} | ${f.cpu.envoyReads.toFixed(2)} | ${f.cpu.procWrites?.toFixed(2) ?? '-'} |`,
      );
    if (schedRows.length > 0) printSched(schedRows);
    if (extProcLog !== undefined) {
      // Envoy flushes its file access logs every 10 s (--file-flush-interval-msec).
      await new Promise((r) => setTimeout(r, 11_000));
      printExtProcLatency(summarizeExtProcLatency(extProcLog, fixedWindows));
      // EDGE_BENCH_GC_LOG=FILE: the TS servers log their GC pauses (processor-server.ts); match
      // them with the slow calls of their fixed-rate windows.
      const gcLog = process.env.EDGE_BENCH_GC_LOG;
      if (gcLog !== undefined) {
        for (const [id, proc] of [
          ['ts', tsProc],
          ['tsB', tsProcB],
          ['bare', bareProc],
        ] as const) {
          const ws = fixedWindows.filter((w) => w.id === id);
          if (proc?.pid !== undefined && ws.length > 0)
            printGcOverlap(extProcLog, `${gcLog}.${proc.pid}`, ws);
        }
      }
    }

    if (!has('alone', 'ts', 'grpcjs', 'go1', 'go2')) return;
    const ts = row('ts');
    const go = row('go1');
    const verdict = (ok: boolean): string => (ok ? 'MET' : 'MISSED');
    const lines: [string, string, boolean][] = [
      [
        'header processor >= 0.85 of Go requests/s',
        (ts.rps / go.rps).toFixed(2),
        ts.rps / go.rps >= 0.85,
      ],
      [
        'processor CPU <= 45 µs per request',
        `${ts.cpu!.procUs!.toFixed(0)} µs (Go ${go.cpu!.procUs!.toFixed(0)} µs, grpc-js transport ${row('grpcjs').cpu!.procUs!.toFixed(0)} µs)`,
        ts.cpu!.procUs! <= 45,
      ],
      [
        'Envoy CPU per request against it <= against Go',
        `${ts.cpu!.envoyUs.toFixed(0)} vs ${go.cpu!.envoyUs.toFixed(0)} µs`,
        ts.cpu!.envoyUs <= go.cpu!.envoyUs,
      ],
      [
        `p99 at ${FIXED_RATE} req/s <= Go's`,
        `${(fix('ts').p99us / 1000).toFixed(3)} vs ${(fix('go1').p99us / 1000).toFixed(3)} ms`,
        fix('ts').p99us <= fix('go1').p99us,
      ],
      [
        `p99 at -c${CONNECTIONS} <= 2x Go's`,
        `${ts.p99ms.toFixed(2)} vs ${go.p99ms.toFixed(2)} ms (${(ts.p99ms / go.p99ms).toFixed(2)}x)`,
        ts.p99ms <= 2 * go.p99ms,
      ],
    ];
    console.log('\nissue 13 goals (same run; processor-core = the node:http2 transport row):\n');
    for (const [what, value, ok] of lines) console.log(`- ${what}: ${value}: ${verdict(ok)}`);
    const ratio = ts.rps / row('alone').rps;
    const added = (fix('ts').p50us - fix('alone').p50us) / 1000;
    console.log(
      `\nheader processor: ${(ratio * 100).toFixed(0)}% of Envoy-alone throughput (target >= 50%): ${verdict(ratio >= 0.5)}`,
    );
    console.log(
      `Go reference: ${((go.rps / row('alone').rps) * 100).toFixed(0)}% (GOMAXPROCS=1), ${((row('go2').rps / row('alone').rps) * 100).toFixed(0)}% (GOMAXPROCS=2); added p50 ${((fix('go1').p50us - fix('alone').p50us) / 1000).toFixed(3)} ms (GOMAXPROCS=1)`,
    );
    console.log(
      `added p50 at ${FIXED_RATE} req/s: ${added.toFixed(3)} ms (target <= 0.5 ms): ${verdict(added <= 0.5)}`,
    );
    if (has('bare')) {
      // Node's floor: what any node:http2 ext_proc server pays, processor-core's share above it.
      const bare = row('bare');
      console.log(
        `\nnode:http2 floor (bare server, no processor-core): ${(bare.rps / go.rps).toFixed(2)} of Go requests/s, ${bare.cpu!.procUs!.toFixed(0)} µs processor CPU per request (processor-core ${ts.cpu!.procUs!.toFixed(0)}), p99 at -c${CONNECTIONS} ${bare.p99ms.toFixed(2)} ms (processor-core ${ts.p99ms.toFixed(2)}, Go ${go.p99ms.toFixed(2)}), p99 at ${FIXED_RATE} req/s ${(fix('bare').p99us / 1000).toFixed(3)} ms (processor-core ${(fix('ts').p99us / 1000).toFixed(3)}, Go ${(fix('go1').p99us / 1000).toFixed(3)})`,
      );
    }
  } finally {
    await envoy.stop();
    for (const k of kids) k.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
