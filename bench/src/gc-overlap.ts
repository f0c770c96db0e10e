// Do the slow ext_proc calls coincide with the processor's GC pauses? For each fixed-rate window
// of a TS row: the calls slower than a threshold (Envoy's timing, EDGE_BENCH_EXT_PROC_LOG) and
// how many of them overlap a GC pause (EDGE_BENCH_GC_LOG), against the share of all calls that
// overlap one (what chance alone would give).
import { existsSync, readFileSync } from 'node:fs';
import { readWindows, type Window } from './ext-proc-latency';

interface Pause {
  start: number;
  end: number;
  ms: number;
  kind: string;
}

// PerformanceEntry detail.kind: NODE_PERFORMANCE_GC_* flags.
const KIND: Record<string, string> = {
  '1': 'scavenge',
  '2': 'mark-compact',
  '4': 'incremental',
  '8': 'weak-cb',
};

function readPauses(file: string): Pause[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [s, d, k] = l.split(' ');
      const start = Number(s);
      const ms = Number(d);
      return { start, end: start + ms / 1000, ms, kind: KIND[k ?? ''] ?? `kind ${k}` };
    });
}

export function printGcOverlap(
  extProcLog: string,
  gcFile: string,
  windows: readonly Window[],
  thresholdsMs: readonly number[] = [1, 2, 5],
): void {
  const pauses = readPauses(gcFile);
  const logged = readWindows(extProcLog, windows);
  console.log(
    '\nslow ext_proc calls vs the processor\'s GC pauses (a call "overlaps" a pause that ran between its start and its end):\n',
  );
  console.log(
    '| window | GC pauses (scavenge / mark-compact), ms total | calls | calls overlapping a pause | ' +
      thresholdsMs.map((t) => `calls > ${t} ms: overlapping / all`).join(' | ') +
      ' |',
  );
  console.log(`|---|---|---:|---:|${thresholdsMs.map(() => '---:').join('|')}|`);
  for (const w of windows) {
    const inWindow = pauses.filter((p) => p.end >= w.from && p.start < w.to);
    const calls = logged
      .get(w)!
      .flatMap((r) => (r.extProcUs !== undefined ? [{ start: r.start, us: r.extProcUs }] : []));
    const overlaps = (c: { start: number; us: number }): boolean =>
      inWindow.some((p) => p.start < c.start + c.us / 1e6 && p.end > c.start);
    const count = (k: string): number => inWindow.filter((p) => p.kind === k).length;
    const cells = thresholdsMs.map((t) => {
      const slow = calls.filter((c) => c.us > t * 1000);
      return `${slow.filter(overlaps).length} / ${slow.length}`;
    });
    console.log(
      `| ${w.name} | ${count('scavenge')} / ${count('mark-compact')}, ${inWindow.reduce((a, p) => a + p.ms, 0).toFixed(1)} | ${calls.length} | ${calls.filter(overlaps).length} | ${cells.join(' | ')} |`,
    );
  }
}
