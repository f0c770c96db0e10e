// CPU accounting for the benchmarks: a process's utime + stime from /proc, and finding the
// bench's own descendant processes (Envoy, the processors) by their command line.
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ: 100 on every Linux ABI Node ships for.

/** CPU seconds (user + system, all threads) of one process so far, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** A descendant of this process whose command line matches `re` (throws when none). */
export function descendantPid(re: RegExp): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!re.test(cmd)) continue;
      for (let p = Number(d); p > 1; p = parentOf(p)) if (p === process.pid) return Number(d);
    } catch {
      // raced with an exiting process
    }
  }
  throw new Error(`no descendant process matches ${String(re)}`);
}
