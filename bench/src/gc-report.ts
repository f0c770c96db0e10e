// What bench:core reads of a TS ext_proc server over IPC, shared by processor-server.ts and
// bare-http2-server.ts: GC pauses so far ('gc' -> { count, ms, allocated }), and the optional
// diagnostics EDGE_BENCH_ELD_FILE (event-loop delay per window) and EDGE_BENCH_GC_LOG (every pause).
import { appendFileSync } from 'node:fs';
import {
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';

/** Starts answering the bench's 'gc' messages (call once, in the server process). */
export function reportGc(): void {
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
}
