// `pnpm --filter @edge/bench bench:nest`: the per-message cost of running an ext_proc processor
// in NestJS. One trivial request-headers processor (sets one header) served three ways, each in
// its own process (src/nest-servers.ts):
//   (a) processor-core's createExtProcServer;
//   (b) the same processor as a Nest provider via processor-core's ExtProcTransport/ExtProcModule;
//   (c) Nest's built-in gRPC transport (@GrpcStreamMethod over an RxJS Observable).
// Load comes from a separate process (src/nest-load.ts: grpc-js playing Envoy over 127.0.0.1).
// Rows run interleaved for ROUNDS rounds; the table shows each row's median round.
import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@edge/testkit';

const SECONDS = Number(process.env.EDGE_BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 2);
const STREAMS = Number(process.env.EDGE_BENCH_STREAMS ?? 64);
const ROUNDS = Number(process.env.EDGE_BENCH_ROUNDS ?? 3);

const SCENARIOS = [
  { kind: 'core', name: '(a) processor-core createExtProcServer' },
  { kind: 'nest-ext', name: '(b) Nest + processor-core ExtProcTransport' },
  { kind: 'nest-grpc', name: '(c) Nest Transport.GRPC + @GrpcStreamMethod (RxJS)' },
] as const;

interface LoadResult {
  streams: number;
  errors: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}
interface Run extends LoadResult {
  /** Server CPU time (user + system) per stream in the measured window, µs. */
  cpuUsPerStream: number;
}

type Cpu = { user: number; system: number };

function startServer(kind: string, port: number): Promise<ChildProcess> {
  const c = fork(join(__dirname, 'nest-servers.js'), [kind, String(port)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    c.once('message', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`nest-servers ${kind} exited ${code}`)));
  });
}

function serverCpu(server: ChildProcess): Promise<Cpu> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if (typeof m === 'object' && m !== null && 'cpu' in m) {
        server.off('message', on);
        resolve((m as { cpu: Cpu }).cpu);
      }
    };
    server.on('message', on);
    server.send('cpu');
  });
}

function stop(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 5000).unref();
  });
}

async function runOnce(kind: string): Promise<Run> {
  const port = await freePort();
  const server = await startServer(kind, port);
  try {
    const load = fork(
      join(__dirname, 'nest-load.js'),
      [`127.0.0.1:${port}`, String(STREAMS), String(SECONDS), String(WARMUP)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    let cpuStart: Promise<Cpu> | undefined;
    let cpuEnd: Promise<Cpu> | undefined;
    const result = await new Promise<LoadResult>((resolve, reject) => {
      load.on('message', (m: { event: string } & Partial<LoadResult>) => {
        if (m.event === 'window-start') cpuStart = serverCpu(server);
        else if (m.event === 'window-end') cpuEnd = serverCpu(server);
        else if (m.event === 'result') resolve(m as LoadResult);
      });
      load.once('exit', (code) => reject(new Error(`nest-load exited ${code}`)));
    });
    await stop(load);
    const [a, b] = await Promise.all([cpuStart, cpuEnd]);
    const cpuUs = a && b ? b.user + b.system - a.user - a.system : NaN;
    return { ...result, cpuUsPerStream: cpuUs / Math.max(1, result.streams) };
  } finally {
    await stop(server);
  }
}

const median = (runs: Run[]): Run => {
  const sorted = [...runs].sort((x, y) => x.perSecond - y.perSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
};

function table(rows: { name: string; run: Run; all: Run[] }[]): string {
  const base = rows[0]!.run;
  const header = [
    'scenario',
    'msgs/s',
    'p50 ms',
    'p99 ms',
    'ratio to (a)',
    'server CPU µs/stream',
    'errors',
    'msgs/s per round',
  ];
  const body = rows.map(({ name, run, all }) => [
    name,
    run.perSecond.toFixed(0),
    run.p50ms.toFixed(3),
    run.p99ms.toFixed(3),
    (run.perSecond / base.perSecond).toFixed(2),
    run.cpuUsPerStream.toFixed(0),
    String(run.errors),
    all.map((r) => r.perSecond.toFixed(0)).join(' / '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), sep, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  console.log(
    `bench:nest: ${STREAMS} concurrent streams over one connection, ${WARMUP} s warm-up + ` +
      `${SECONDS} s per run, ${ROUNDS} interleaved rounds; nproc ${cpus().length}, ` +
      `${cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  );
  const runs = new Map<string, Run[]>(SCENARIOS.map((s) => [s.kind, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of SCENARIOS) {
      const r = await runOnce(s.kind);
      runs.get(s.kind)!.push(r);
      console.log(
        `  round ${round} ${s.kind}: ${r.perSecond.toFixed(0)} msgs/s, p50 ${r.p50ms.toFixed(3)} ms, ` +
          `p99 ${r.p99ms.toFixed(3)} ms, ${r.cpuUsPerStream.toFixed(0)} µs CPU/stream, ${r.errors} errors`,
      );
    }
  }
  console.log(
    '\n' +
      table(
        SCENARIOS.map((s) => {
          const all = runs.get(s.kind)!;
          return { name: s.name, run: median(all), all };
        }),
      ),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
