// bench:encode: what encoding one ext_proc answer costs, with a new BinaryWriter per message
// (what ts-proto's encode() does by default) and with the reused one processor-core's transport
// encodes with (`reusingEncoder` from @edge/protos, the same function), for the answers the processors send: authn's (identity headers set,
// credentials removed, dynamic metadata), header mutations only, metadata only, an empty one.
import { extProc, reusingEncoder } from '@edge/protos';

const N = Number(process.env.EDGE_BENCH_ITERATIONS ?? 300_000);
const ROUNDS = Number(process.env.EDGE_BENCH_ROUNDS ?? 3);

const set = (key: string, value: string) => ({
  header: { key, value: '', rawValue: Buffer.from(value) },
  append: undefined,
  appendAction: 2,
  keepEmptyValue: false,
});
const headerMutation = {
  setHeaders: [
    set('x-tenant-id', 'tenant-0123456789abcdef'),
    set('x-user-id', 'user-0123456789abcdef'),
    set('x-key-id', 'key_0123456789abcdef'),
    set('x-scopes', 'echo:read echo:write'),
  ],
  removeHeaders: ['authorization', 'x-tenant-id', 'x-user-id', 'x-key-id', 'x-scopes'],
};
const metadata = {
  'edge.authn': {
    via: 'basic',
    tenant: 'tenant-0123456789abcdef',
    user_id: 'user-0123456789abcdef',
    key_id: 'key_0123456789abcdef',
  },
};
const answer = (
  h: typeof headerMutation | undefined,
  md: typeof metadata | undefined,
): extProc.ProcessingResponse => ({
  response: {
    $case: 'requestHeaders',
    value: {
      response: {
        status: 0,
        headerMutation: h,
        bodyMutation: undefined,
        trailers: undefined,
        clearRouteCache: false,
      },
    },
  },
  dynamicMetadata: md,
  modeOverride: undefined,
  overrideMessageTimeout: undefined,
});
const cases: [string, extProc.ProcessingResponse][] = [
  ['authn allow (4 set, 5 removed, metadata)', answer(headerMutation, metadata)],
  ['header mutations only', answer(headerMutation, undefined)],
  ['dynamic metadata only', answer(undefined, metadata)],
  ['empty headers response', answer(undefined, undefined)],
];

const time = (f: () => void): number => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f();
  return Number(process.hrtime.bigint() - t0) / N;
};
const reused = reusingEncoder(extProc.ProcessingResponse);
const results = new Map<string, { fresh: number[]; reused: number[]; bytes: number }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, res] of cases) {
    const r = results.get(name) ?? {
      fresh: [],
      reused: [],
      bytes: extProc.ProcessingResponse.encode(res).finish().length,
    };
    r.fresh.push(time(() => extProc.ProcessingResponse.encode(res).finish()));
    r.reused.push(time(() => reused(res)));
    results.set(name, r);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`node ${process.version}; ${N} encodes per cell, ${ROUNDS} rounds, median shown\n`);
console.log('| answer | bytes | new writer per message ns | reused writer ns | saved ns |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, r] of results) {
  const a = median(r.fresh);
  const b = median(r.reused);
  console.log(
    `| ${name} | ${r.bytes} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a - b).toFixed(0)} |`,
  );
}
