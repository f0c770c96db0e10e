// Scheduler delay per process, from `perf sched record` over a measured window: how long each
// thread waited between being woken and running (the kernel's "sch delay"), and how often it
// ran per request. It tells a tail caused by waiting for a CPU (run-queue contention on a
// 2-vCPU box) from one caused by work inside the process. Needs `perf` and tracefs (root).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { quantile } from './quantile';

export interface SchedRecording {
  /** Stops the recording; resolves once perf has written its file. */
  stop(): Promise<void>;
}

export function startSchedRecord(file: string): SchedRecording {
  const perf: ChildProcess = spawn('perf', ['sched', 'record', '-a', '-o', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  perf.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    perf.once('error', reject);
    perf.once('exit', (code, signal) => {
      // perf exits 0 on SIGINT after writing the file; anything else is a broken recording.
      if (code === 0 || signal === 'SIGINT') resolve();
      else reject(new Error(`perf sched record exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      // Idempotent: the first call signals perf, every call waits for its file.
      if (stopping === undefined) {
        perf.kill('SIGINT');
        stopping = exited;
      }
      return stopping;
    },
  };
}

export interface SchedGroup {
  label: string;
  pid: number;
  /** Only the thread whose tid is the pid (Node's JS thread, Envoy's main thread). */
  mainOnly?: boolean;
  /** Or: only threads whose name starts with this (Envoy's worker: `wrk:worker_0`). */
  threadPrefix?: string;
}

export interface SchedSummary {
  label: string;
  /** Times a thread of the group was switched in. */
  runs: number;
  delayMs: { p50: number; p99: number; p999: number; max: number };
  /** Sum of scheduler delays over the window. */
  totalDelayMs: number;
}

// A line of `perf sched timehist`: time, [cpu], name[tid/pid] or name[pid], wait, sch delay, run.
const LINE =
  /^\s*[\d.]+\s+\[\d+\]\s+(.*)\[(\d+)(?:\/(\d+))?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/;

export function summarizeSched(file: string, groups: readonly SchedGroup[]): SchedSummary[] {
  const out = spawnSync('perf', ['sched', 'timehist', '-i', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (out.status !== 0) throw new Error(`perf sched timehist failed: ${out.stderr}`);
  const delays = groups.map(() => [] as number[]);
  for (const line of out.stdout.split('\n')) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const name = m[1]!.trim();
    const tid = Number(m[2]);
    const pid = m[3] !== undefined ? Number(m[3]) : tid;
    const delay = Number(m[5]);
    groups.forEach((g, i) => {
      if (g.pid !== pid) return;
      if (g.mainOnly === true && tid !== pid) return;
      if (g.threadPrefix !== undefined && !name.startsWith(g.threadPrefix)) return;
      delays[i]!.push(delay);
    });
  }
  return groups.map((g, i) => {
    const d = delays[i]!.sort((a, b) => a - b);
    return {
      label: g.label,
      runs: d.length,
      delayMs: {
        p50: quantile(d, 0.5) ?? 0,
        p99: quantile(d, 0.99) ?? 0,
        p999: quantile(d, 0.999) ?? 0,
        max: d[d.length - 1] ?? 0,
      },
      totalDelayMs: d.reduce((a, b) => a + b, 0),
    };
  });
}

export interface SchedRow {
  name: string;
  requests: number;
  summaries: SchedSummary[];
}

export function printSched(rows: readonly SchedRow[]): void {
  console.log(
    '\nscheduler delay over each fixed-rate window (perf sched: woken → running, ms; runs = times switched in):\n',
  );
  console.log(
    '| window | thread(s) | runs per request | p50 | p99 | p99.9 | max | total delay ms per 1k req |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    for (const s of r.summaries)
      console.log(
        `| ${r.name} | ${s.label} | ${(s.runs / r.requests).toFixed(2)} | ${s.delayMs.p50.toFixed(3)} | ${s.delayMs.p99.toFixed(3)} | ${s.delayMs.p999.toFixed(3)} | ${s.delayMs.max.toFixed(3)} | ${((s.totalDelayMs / r.requests) * 1000).toFixed(1)} |`,
      );
}
