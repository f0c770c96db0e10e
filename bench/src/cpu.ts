// CPU accounting shared by the benchmarks: per-process CPU time from /proc/<pid>/stat, the whole
// machine's from /proc/stat, and the Envoy child of this process.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** CPU seconds (user + system, all threads) of one process so far, from /proc/<pid>/stat. */
export const CLK_TCK = 100; // USER_HZ: 100 on every Linux ABI Node ships for.
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/**
 * Read and write system calls of one process so far (all threads), from /proc/<pid>/io: `syscr`
 * and `syscw` count calls through the VFS (read, readv, write, writev...), not the socket calls
 * (sendto, sendmsg, recvmsg: Envoy sends with sendto). Per request they show the write pattern
 * a peer sees: how many separate writes carry one ext_proc answer, and how often Envoy reads.
 */
export function procSyscalls(pid: number): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string): number =>
    Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return { reads: field('syscr'), writes: field('syscw') };
}

/** Whole-machine busy and steal seconds (all CPUs) from /proc/stat's `cpu` line. */
export function machineCpu(): { busy: number; steal: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .split(/\s+/)
    .slice(1, 9)
    .map((v) => Number(v) / CLK_TCK) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const busy = user + nice + system + irq + softirq;
  return { busy, steal, total: busy + idle + iowait + steal };
}

/** The Envoy process: our child whose executable is envoy (testkit spawns it directly). */
export function envoyPid(): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && /envoy/.test(readlinkSync(`/proc/${d}/exe`))) return Number(d);
    } catch {
      // raced with an exiting process
    }
  }
  throw new Error("could not find the Envoy process among this process's children");
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

/** Every process below `root` (children, grandchildren, ...). */
export function descendants(root: number = process.pid): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/**
 * CPU seconds so far of each group of this process's descendants, a group being the processes
 * whose command line matches its pattern (e.g. `['authn', /authn-processor\/dist\/main\.js/]`).
 */
export function groupCpuSeconds(groups: readonly [string, RegExp][]): Map<string, number> {
  const out = new Map<string, number>(groups.map(([g]) => [g, 0]));
  for (const pid of descendants()) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const group = groups.find(([, re]) => re.test(cmd))?.[0];
      if (group === undefined) continue;
      out.set(group, out.get(group)! + procCpuSeconds(pid));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
