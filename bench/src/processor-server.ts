// The benchmark ext_proc server (its own process): a header-mutating processor and the same
// processor buffering the request body, selected per Envoy filter by gRPC metadata. The
// transport (processor-core's node:http2 one or grpc-js) is the second argument.
import { appendFileSync } from 'node:fs';
import {
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';
import {
  BaseProcessor,
  createExtProcServer,
  jsonLogger,
  silentLogger,
  type BodyPhase,
  type HeadersPhase,
  type StreamContext,
} from '@edge/processor-core';

class HeaderProcessor extends BaseProcessor {
  readonly name: string = 'headers';
  onRequestHeaders(ctx: StreamContext, p: HeadersPhase): void {
    p.setHeader('x-bench-path', ctx.path);
    p.removeHeader('x-drop-me');
  }
}

class BodyProcessor extends HeaderProcessor {
  override readonly name = 'body';
  override readonly mode = { requestHeaders: 'send' as const, requestBody: 'buffered' as const };
  onRequestBody(_ctx: StreamContext, b: BodyPhase): void {
    b.setHeader('x-body-bytes', String(b.body.length));
  }
}

// argv: port [transport: http2 (default) | grpc-js]
const server = createExtProcServer({
  host: '127.0.0.1',
  port: Number(process.argv[2]),
  transport: process.argv[3] === 'grpc-js' ? 'grpc-js' : 'http2',
  logger: process.env.EDGE_BENCH_LOG !== undefined ? jsonLogger({ level: 'debug' }) : silentLogger,
  processors: [new HeaderProcessor(), new BodyProcessor()],
});
server.listen().then(
  () => process.send?.('ready'),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

// Exit cleanly on a signal so `node --cpu-prof` can write its profile.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void server.shutdown({ graceMs: 500 }).finally(() => process.exit(0));
  });
}

// GC pauses of this process, read by the bench over IPC ('gc' -> { count, ms } so far), from
// v8.GCProfiler (a PerformanceObserver on 'gc' entries cost ~6 % of this process's CPU).
let gcCount = 0;
let gcMs = 0;
let profiler = new GCProfiler();
profiler.start();
// Bytes allocated: the heap growth between one GC's end and the next one's start, summed
// (allocations since the last GC are not counted: compare over many GCs).
let allocated = 0;
let lastAfter: number | undefined;
const eld =
  process.env.EDGE_BENCH_ELD_FILE !== undefined
    ? monitorEventLoopDelay({ resolution: 1 })
    : undefined;
eld?.enable();
process.on('message', (m) => {
  if (m !== 'gc') return;
  if (eld !== undefined) {
    appendFileSync(
      `${process.env.EDGE_BENCH_ELD_FILE}.${process.pid}`,
      `${new Date().toISOString()} eld ms p50 ${(eld.percentile(50) / 1e6).toFixed(3)} p99 ${(eld.percentile(99) / 1e6).toFixed(3)} p999 ${(eld.percentile(99.9) / 1e6).toFixed(3)} max ${(eld.max / 1e6).toFixed(3)} n ${eld.count}\n`,
    );
    eld.reset();
  }
  for (const e of profiler.stop()?.statistics ?? []) {
    gcCount++;
    gcMs += e.cost / 1000;
    const before = e.beforeGC.heapStatistics.usedHeapSize;
    if (lastAfter !== undefined && before > lastAfter) allocated += before - lastAfter;
    lastAfter = e.afterGC.heapStatistics.usedHeapSize;
  }
  profiler = new GCProfiler();
  profiler.start();
  process.send?.({ count: gcCount, ms: gcMs, allocated });
});

// EDGE_BENCH_GC_LOG=FILE: every GC pause of this process, appended to FILE.<pid> as
// "<epoch start s> <duration ms> <kind>" (a diagnostic: the 'gc' observer costs CPU of its own,
// so it is off in the default runs; gc-overlap.ts matches these pauses with slow calls).
const gcLog = process.env.EDGE_BENCH_GC_LOG;
if (gcLog !== undefined) {
  new PerformanceObserver((list) => {
    const lines = list
      .getEntries()
      .map(
        (e) =>
          `${((performance.timeOrigin + e.startTime) / 1000).toFixed(6)} ${e.duration.toFixed(3)} ${(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? '?'}\n`,
      )
      .join('');
    appendFileSync(`${gcLog}.${process.pid}`, lines);
  }).observe({ entryTypes: ['gc'] });
}
