// `pnpm --filter @edge/bench bench:logging`: what audit logging costs on the request path and
// how fast the consumer stores records. One stack (@edge/e2e's startFrontProxyStack: Postgres,
// auth, echo, the authn processor, Kafka, the logging processor, the consumer) and four Envoys
// rendered from envoy/front-proxy.yaml (idempotency disabled on every route in all four, so
// only the filters under test differ):
//   Envoy alone · authn alone · authn + logging (observability_mode) · authn + logging (Envoy
//   waits for the processor).
// Closed loop (wrk) for requests/s, p50, p99 and CPU µs per request of every process; open loop
// at a fixed moderate rate for the added p50. The consumer is stopped during those rows, so the
// records pile up in Kafka; then it is started and its sustained records/s stored is measured
// on that backlog. Load from separate processes at 127.0.0.1.
import { cpus, loadavg } from 'node:os';
import { startFrontProxyStack } from '@edge/e2e';
import { benchFrontProxyYaml } from './bench-front-proxy';
import { freePort, infraBackend, type EnvoyInfo, type Started } from '@edge/testkit';
import { withoutExtProc } from './authn-envoy-alone';
import { groupCpuSeconds } from './cpu';
import {
  envoyCounters,
  fixedRate,
  UNLIMITED_CLIENT,
  wrk,
  wrkBin,
  type FixedRateResult,
  type LoadResult,
} from './load';

const DURATION = Number(process.env.EDGE_BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.EDGE_BENCH_CONNECTIONS ?? 32);
const FIXED_RATE = Number(process.env.EDGE_BENCH_RATE ?? 500);
/** Fixed-rate rounds (the rows interleaved, so a load spike on the machine hits all of them). */
const ROUNDS = Number(process.env.EDGE_BENCH_ROUNDS ?? 2);
const IDEMPOTENCY_FILTER = 'envoy.filters.http.ext_proc.idempotency';
const PATH = '/api/v0/echo';
const LOGGING_CPU_PROF = process.env.EDGE_BENCH_LOGGING_CPU_PROF;

/** Process groups whose CPU is read, by what their command line contains. */
const GROUPS: [string, RegExp][] = [
  ['envoy', /(^|\/)envoy\0/],
  ['authn', /authn-processor\/dist\/main\.js/],
  ['logging', /logging-processor\/dist\/main\.js/],
  ['echo', /echo\/dist\/main\.js/],
  ['kafka', /kafka\.Kafka/],
  ['consumer', /consumer\/dist\/main\.js/],
  ['postgres', /(^|\/)postgres(\0|:|$)|^postgres: /],
];

interface Target {
  name: string;
  base: string;
  admin: number;
  logging: boolean;
}

interface Row {
  name: string;
  r: LoadResult;
  cpuUs: Map<string, number>;
  loggingStreams: number;
  authnStreams: number;
  /** Records the logging processor built per completed request (1.00: every request logged). */
  recordsPerRequest: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

async function main(): Promise<void> {
  const bin = wrkBin();
  if (bin === undefined) throw new Error('wrk is missing: run scripts/infra/setup.sh');
  const stack = await startFrontProxyStack({
    envoyConcurrency: 1,
    envoyVars: UNLIMITED_CLIENT,
    // EDGE_BENCH_LOGGING_CPU_PROF=DIR: the logging processor runs under `node --cpu-prof`.
    ...(LOGGING_CPU_PROF !== undefined
      ? {
          logging: {
            processorEnv: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${LOGGING_CPU_PROF}` },
          },
        }
      : {}),
  });
  const kafka = stack.kafka;
  if (kafka === undefined) throw new Error('the stack has no Kafka: logging is off');
  const extra: Started<EnvoyInfo>[] = [];
  try {
    const variant = async (
      name: string,
      logging: 'off' | 'observability' | 'waiting',
      disable: string[] | undefined,
    ): Promise<Target> => {
      const port = await freePort();
      const admin = await freePort();
      const yaml = benchFrontProxyYaml(
        stack,
        port,
        admin,
        logging === 'off' ? undefined : { observabilityMode: logging !== 'waiting' },
      );
      extra.push(
        await infraBackend().envoy({
          name: `bench-${name.replace(/[^a-z]+/gi, '-').toLowerCase()}`,
          configYaml: withoutExtProc(yaml, disable).yaml,
          adminPort: admin,
          readyPorts: [port],
          concurrency: 1,
        }),
      );
      return { name, base: `http://127.0.0.1:${port}`, admin, logging: logging !== 'off' };
    };
    const targets = [
      await variant('Envoy alone', 'off', undefined),
      await variant('authn alone', 'off', [IDEMPOTENCY_FILTER]),
      await variant('authn + logging (observability_mode)', 'observability', [IDEMPOTENCY_FILTER]),
      await variant('authn + logging (Envoy waits)', 'waiting', [IDEMPOTENCY_FILTER]),
    ];

    const root = (await (await fetch(`${stack.authUrl}/create-root-key`)).json()) as {
      key_id: string;
      secret: string;
    };
    const headers = {
      authorization: `Basic ${Buffer.from(`${root.key_id}:${root.secret}`).toString('base64')}`,
    };
    for (const t of targets) {
      const res = await fetch(t.base + PATH, { headers });
      await res.text();
      if (res.status !== 200) throw new Error(`${t.name}: sanity request answered ${res.status}`);
    }

    // The records of the load rows pile up in Kafka while the consumer is stopped.
    await stack.stopPart('consumer');

    const loggingMetrics = `http://127.0.0.1:${stack.ports.loggingMetrics}/metrics`;
    const rows: Row[] = [];
    for (const t of targets) {
      const url = t.base + PATH;
      await wrk(bin, url, WARMUP, CONNECTIONS, { headers });
      await sleep(1_500); // the warm-up's last records (observability mode: sent after the answer)
      const c0 = groupCpuSeconds(GROUPS);
      const e0 = await envoyCounters(t.admin, '');
      const rec0 = await metric(loggingMetrics, 'logging_records_total');
      const r = await wrk(bin, url, DURATION, CONNECTIONS, { headers });
      const c1 = groupCpuSeconds(GROUPS);
      const e1 = await envoyCounters(t.admin, '');
      await sleep(1_500);
      const rec1 = await metric(loggingMetrics, 'logging_records_total');
      const d = (k: string): number => (e1.get(k) ?? 0) - (e0.get(k) ?? 0);
      const completed = d('http.front.downstream_rq_completed');
      const cpuUs = new Map<string, number>();
      for (const [g] of GROUPS) cpuUs.set(g, ((c1.get(g)! - c0.get(g)!) * 1e6) / r.requests);
      rows.push({
        name: t.name,
        r,
        cpuUs,
        loggingStreams: d('cluster.logging_processor.upstream_rq_total') / completed,
        authnStreams: d('cluster.authn_processor.upstream_rq_total') / completed,
        recordsPerRequest: (rec1 - rec0) / completed,
      });
    }

    const fixed = new Map<string, FixedRateResult[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        await fixedRate(t.base + PATH, FIXED_RATE, WARMUP, { headers });
        fixed.get(t.name)!.push(await fixedRate(t.base + PATH, FIXED_RATE, DURATION, { headers }));
      }
    }

    // The consumer on the backlog: records/s stored, sustained, and its CPU per record.
    const published = await metric(loggingMetrics, 'logging_records_published_total');
    const buffered = await metric(loggingMetrics, 'logging_records_buffered');
    await stack.startPart('consumer');
    const consumerMetrics = `${stack.consumerUrl}/metrics`;
    const samples: { t: number; stored: number; cpu: Map<string, number> }[] = [];
    let idleSince = 0;
    for (;;) {
      const stored = await metric(consumerMetrics, 'consumer_records_stored_total');
      samples.push({ t: performance.now(), stored, cpu: groupCpuSeconds(GROUPS) });
      const prev = samples[samples.length - 2];
      if (prev !== undefined && stored === prev.stored && stored > 0) {
        if (idleSince === 0) idleSince = performance.now();
        if (performance.now() - idleSince > 3_000) break;
      } else idleSince = 0;
      if (samples.length > 1_200)
        throw new Error('the consumer did not drain the backlog in 10 min');
      await sleep(250);
    }
    // From the first sample with records stored to the last increase: the sustained rate.
    const first = samples.find((s) => s.stored > 0)!;
    const lastStored = samples[samples.length - 1]!.stored;
    const last = samples.find((s) => s.stored === lastStored)!;
    const stored = last.stored - first.stored;
    const seconds = (last.t - first.t) / 1000;
    const cpuPerRecord = (g: string) =>
      ((last.cpu.get(g)! - first.cpu.get(g)!) * 1e6) / Math.max(1, stored);

    const [l1, l5] = loadavg();
    console.log(
      `\nmachine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown'}; load average ${l1!.toFixed(2)} (1 min) ${l5!.toFixed(2)} (5 min); node ${process.version}; Envoy --concurrency 1`,
    );
    console.log(
      `load: wrk -t1 -c${CONNECTIONS} GET ${PATH} (HTTP Basic, key cache warm), ${DURATION}s per row after ${WARMUP}s warm-up; idempotency disabled on every route of all four Envoys\n`,
    );
    console.log(
      '| scenario | requests/s | p50 ms | p99 ms | ratio to Envoy alone | ratio to authn alone | non-2xx | logging streams/request | records/request | CPU µs/request: envoy | authn | logging | kafka | echo |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const us = (row: Row, g: string): string => row.cpuUs.get(g)!.toFixed(0);
    for (const row of rows) {
      console.log(
        `| ${row.name} | ${row.r.rps.toFixed(0)} | ${row.r.p50ms.toFixed(3)} | ${row.r.p99ms.toFixed(3)} | ${(row.r.rps / rows[0]!.r.rps).toFixed(2)} | ${(row.r.rps / rows[1]!.r.rps).toFixed(2)} | ${row.r.errors} | ${row.loggingStreams.toFixed(2)} | ${row.recordsPerRequest.toFixed(2)} | ${us(row, 'envoy')} | ${us(row, 'authn')} | ${us(row, 'logging')} | ${us(row, 'kafka')} | ${us(row, 'echo')} |`,
      );
    }
    console.log(
      `\nfixed rate ${FIXED_RATE} req/s, 16 connections, ${DURATION}s per row after ${WARMUP}s warm-up, ${ROUNDS} interleaved rounds (open loop, µs timer); added p50 = this row's p50 minus authn alone's p50 in the same round:\n`,
    );
    console.log('| scenario | round | achieved req/s | p50 ms | p99 ms | added p50 ms | errors |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (let round = 0; round < ROUNDS; round++) {
      const authnAlone = fixed.get(targets[1]!.name)![round]!;
      for (const t of targets) {
        const f = fixed.get(t.name)![round]!;
        console.log(
          `| ${t.name} | ${round + 1} | ${f.rps.toFixed(0)} | ${(f.p50us / 1000).toFixed(3)} | ${(f.p99us / 1000).toFixed(3)} | ${t.name === targets[0]!.name ? '' : ((f.p50us - authnAlone.p50us) / 1000).toFixed(3)} | ${f.errors} |`,
        );
      }
    }
    // One number per logging row: the median over rounds of its added p50 (a load spike on a
    // shared machine moves single rounds by more than the effect being measured).
    for (const t of targets.slice(2)) {
      const added = fixed
        .get(t.name)!
        .map((f, round) => f.p50us - fixed.get(targets[1]!.name)![round]!.p50us)
        .sort((a, b) => a - b);
      const mid = added.length / 2;
      const median =
        added.length % 2 === 1 ? added[Math.floor(mid)]! : (added[mid - 1]! + added[mid]!) / 2;
      console.log(
        `\n${t.name}: median added p50 over ${ROUNDS} rounds ${(median / 1000).toFixed(3)} ms`,
      );
    }
    console.log(
      `\nconsumer: ${stored} records of the backlog stored in ${seconds.toFixed(1)} s = ${(stored / seconds).toFixed(0)} records/s sustained (logging processor: ${published} published, ${buffered} still buffered when the consumer started); CPU µs per record: consumer ${cpuPerRecord('consumer').toFixed(0)}, postgres ${cpuPerRecord('postgres').toFixed(0)}, kafka ${cpuPerRecord('kafka').toFixed(0)}`,
    );
    if (rows.some((r) => r.r.errors > 0)) console.log('\nWARNING: non-2xx responses in a row');
    if (rows.slice(2).some((r) => r.loggingStreams < 0.99 || r.recordsPerRequest < 0.99)) {
      console.log('\nWARNING: a logging row did not log every request');
    }
    if (rows.some((r, i) => i > 0 && r.authnStreams < 0.99)) {
      console.log('\nWARNING: authn did not run on every request of an authn row');
    }
  } finally {
    for (const e of extra) await e.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
