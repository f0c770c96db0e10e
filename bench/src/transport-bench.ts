// `pnpm --filter @edge/bench bench:transport`: the ext_proc server alone (no Envoy), its CPU and
// GC per stream under a raw HTTP/2 client playing Envoy (src/transport-load.ts), for several
// variants of the server run interleaved: the transport (http2 / grpc-js) and node flags.
// EDGE_BENCH_VARIANTS="http2;grpc-js;http2 --max-semi-space-size=64" (';' between variants, the
// first word the transport, the rest node flags), EDGE_BENCH_STREAMS (32), EDGE_BENCH_SECONDS (8),
// EDGE_BENCH_ROUNDS (3).
import { execFile, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@edge/testkit';
import { forkReady } from './child';
import { procCpuSeconds } from './cpu';

const run = promisify(execFile);
const SECONDS = Number(process.env.EDGE_BENCH_SECONDS ?? 8);
const STREAMS = Number(process.env.EDGE_BENCH_STREAMS ?? 32);
const ROUNDS = Number(process.env.EDGE_BENCH_ROUNDS ?? 3);
const VARIANTS = (process.env.EDGE_BENCH_VARIANTS ?? 'http2;grpc-js')
  .split(';')
  .map((v) => v.trim().split(/\s+/))
  .map(([transport, ...flags]) => ({
    transport: transport!,
    flags,
    name: [transport, ...flags].join(' '),
  }));

function server(transport: string, flags: string[], port: number): Promise<ChildProcess> {
  return forkReady('processor-server.js', [port, transport], flags);
}

interface GcTotals {
  count: number;
  ms: number;
  allocated: number;
}

function gc(c: ChildProcess): Promise<GcTotals> {
  return new Promise((resolve) => {
    c.once('message', (m) => resolve(m as GcTotals));
    c.send('gc');
  });
}

interface Sample {
  perSecond: number;
  cpuUs: number;
  gcPerK: number;
  gcMsPerK: number;
  /** Heap bytes allocated per stream (from GC heap statistics; needs several GCs). */
  allocPerStream: number;
  errors: number;
}

async function measure(v: (typeof VARIANTS)[number]): Promise<Sample> {
  const port = await freePort();
  const c = await server(v.transport, v.flags, port);
  try {
    // Warm-up (JIT, heap sizing), then the measured window.
    await run(process.execPath, [
      join(__dirname, 'transport-load.js'),
      String(port),
      String(STREAMS),
      '2',
    ]);
    const g0 = await gc(c);
    const cpu0 = procCpuSeconds(c.pid!);
    const { stdout } = await run(process.execPath, [
      join(__dirname, 'transport-load.js'),
      String(port),
      String(STREAMS),
      String(SECONDS),
    ]);
    const cpu1 = procCpuSeconds(c.pid!);
    const g1 = await gc(c);
    const r = JSON.parse(stdout) as { done: number; errors: number };
    return {
      perSecond: r.done / SECONDS,
      cpuUs: ((cpu1 - cpu0) * 1e6) / r.done,
      gcPerK: ((g1.count - g0.count) * 1000) / r.done,
      gcMsPerK: ((g1.ms - g0.ms) * 1000) / r.done,
      allocPerStream: (g1.allocated - g0.allocated) / r.done,
      errors: r.errors,
    };
  } finally {
    c.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of VARIANTS) samples.get(v.name)!.push(await measure(v));
  }
  const median = (xs: number[]): number =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `\nserver alone, raw HTTP/2 client, ${STREAMS} concurrent streams, ${SECONDS}s x ${ROUNDS} rounds interleaved; load average ${loadavg()[0]!.toFixed(2)}\n`,
  );
  console.log(
    '| variant | streams/s | server CPU µs/stream (median; every round) | GC pauses / ms per 1k streams | KB allocated per stream | errors |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, xs] of samples) {
    console.log(
      `| ${name} | ${median(xs.map((x) => x.perSecond)).toFixed(0)} | ${median(xs.map((x) => x.cpuUs)).toFixed(1)} (${xs.map((x) => x.cpuUs.toFixed(1)).join(' / ')}) | ${median(xs.map((x) => x.gcPerK)).toFixed(2)} / ${median(xs.map((x) => x.gcMsPerK)).toFixed(1)} | ${(median(xs.map((x) => x.allocPerStream)) / 1024).toFixed(1)} | ${xs.reduce((a, x) => a + x.errors, 0)} |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
