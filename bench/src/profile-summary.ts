// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. EDGE_BENCH_CPU_PROF=DIR bench:core)
// by where the ext_proc server's time goes: self time grouped by component, and the top
// functions. `node dist/profile-summary.js FILE.cpuprofile [requests]`: with the number of
// requests served in the profiled window it also prints µs per request.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const RULES: [string, (url: string, fn: string) => boolean][] = [
  ['(idle)', (_u, f) => f === '(idle)'],
  ['(garbage collector)', (_u, f) => f === '(garbage collector)'],
  ['(program: native, not attributed)', (_u, f) => f === '(program)'],
  ['grpc-js', (u) => u.includes('@grpc/grpc-js')],
  ['protobuf decode/encode (ts-proto + @bufbuild wire)', (u) => /@bufbuild|protos\/dist/.test(u)],
  [
    'processor-core transport (http2.ts, wire.ts, pump.ts)',
    (u) => /processor-core\/dist\/transport/.test(u),
  ],
  ['processor-core stream/phase/headers/context', (u) => u.includes('processor-core/dist')],
  ['prom-client', (u) => u.includes('prom-client')],
  ['the bench processor', (u) => u.includes('bench/dist')],
  ['kafkajs', (u) => u.includes('kafkajs')],
  ['logging processor (apps/logging-processor)', (u) => u.includes('logging-processor/dist')],
  ['lru-cache', (u) => u.includes('lru-cache')],
  ['node:internal/http2', (u) => u.includes('node:internal/http2')],
  ['node:internal streams', (u) => u.includes('node:internal/streams')],
  ['node:events', (u) => u === 'node:events' || u.includes('node:internal/event')],
  [
    'node:internal timers/process (ticks, microtasks)',
    (u) => /node:internal\/(timers|process)/.test(u),
  ],
  ['other node:internal', (u) => u.startsWith('node:')],
  ['native (no url)', (u) => u === ''],
];

function main(): void {
  const [file, reqArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-summary FILE.cpuprofile [requests]');
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { url, functionName } = n.callFrame;
    const g = RULES.find(([, match]) => match(url, functionName))?.[0] ?? 'other';
    groups.set(g, (groups.get(g) ?? 0) + us);
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(packages|bench)\//, '$1/')}:${n.callFrame.lineNumber}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const idle = groups.get('(idle)') ?? 0;
  const busy = total - idle;
  const reqs = reqArg !== undefined ? Number(reqArg) : undefined;
  console.log(`profile: ${(total / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(2)} s`);
  console.log('\n| component (self time) | % of busy | µs/req |\n|---|---:|---:|');
  for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1])) {
    if (g === '(idle)') continue;
    const per = reqs !== undefined ? (us / reqs).toFixed(1) : '-';
    console.log(`| ${g} | ${((us / busy) * 100).toFixed(1)} | ${per} |`);
  }
  console.log('\n| top functions (self) | % of busy |\n|---|---:|');
  for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    if (k.startsWith('(idle)')) continue;
    console.log(`| ${k} | ${((us / busy) * 100).toFixed(1)} |`);
  }
}

main();
