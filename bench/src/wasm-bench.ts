// bench:wasm — the sidecar Envoy (envoy/sidecar.yaml) alone vs with the Wasm header filter.
// "Envoy alone" is the same rendered listener with the filter removed from the chain; everything
// else (listener, local replies, clusters) is identical, and every scenario is a listener of the
// same Envoy process (each filter in its own VM). The filter gets four headers from a
// header-provider stand-in (a small JSON answer with a JWT-sized token) and adds them to every
// request. Load: wrk -t1 -c32 from its own process at 127.0.0.1; rows alternate over rounds so
// a noisy machine hits both alike. CPU per request: Envoy's own (utime + stime) and the machine's.
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { basename, resolve } from 'node:path';
import { parse } from 'yaml';
import {
  headerFilterConfigValue,
  renderEnvoyConfig,
  SIDECAR_HEADER_FILTER,
} from '@edge/envoy-config';
import { headerFilterWasmPath } from '@edge/header-filter-wasm';
import { freePort, infraBackend } from '@edge/testkit';
import { forkReady } from './child';
import { envoyPid, machineCpu, procCpuSeconds } from './cpu';
import { autocannon, type LoadResult, wrk, wrkBin } from './load';

const DURATION = Number(process.env.EDGE_BENCH_SECONDS ?? 10);
// Longer than the other benches: V8 may run the module in its baseline tier for the first seconds.
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.EDGE_BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.EDGE_BENCH_ROUNDS ?? 3);
const ENVOY_CONCURRENCY = Number(process.env.EDGE_BENCH_ENVOY_CONCURRENCY ?? 1);

type Obj = Record<string, unknown>;

type Listener = {
  name: string;
  address: { socket_address: { port_value: number } };
  filter_chains: { filters: { typed_config: Obj }[] }[];
};
type Root = {
  admin: { address: { socket_address: { port_value: number } } };
  static_resources: { listeners: Listener[] };
};

const isWasm = (f: { name: string }): boolean => f.name.startsWith('envoy.filters.http.wasm');

/** The sidecar listener of a rendered config, under its own name, port and Wasm VM id. */
function listenerOf(configYaml: string, index: number, port: number, withWasm: boolean): Listener {
  const listener = (parse(configYaml) as Root).static_resources.listeners[0]!;
  listener.name = `bench_${index}`;
  listener.address.socket_address.port_value = port;
  const hcm = listener.filter_chains[0]!.filters[0]!.typed_config;
  hcm.stat_prefix = `bench_${index}`;
  const filters = hcm.http_filters as { name: string; typed_config: Obj }[];
  const wasm = filters.filter(isWasm);
  if (wasm.length !== 1) throw new Error('sidecar config: no Wasm filter found');
  if (!withWasm) {
    // "Envoy alone": the same listener with the filter taken out of the chain.
    hcm.http_filters = filters.filter((f) => !isWasm(f));
  } else {
    // Its own VM: listeners sharing a vm_id would share one VM with several root contexts.
    const cfg = wasm[0]!.typed_config.config as { vm_config: { vm_id: string } };
    cfg.vm_config.vm_id = `header_filter_${index}`;
  }
  return listener;
}

interface Row {
  name: string;
  round: number;
  result: LoadResult;
  envoyUsPerReq: number;
  machineUsPerReq: number;
  envoyCores: number;
  machineBusy: number;
}

async function main(): Promise<void> {
  const wrkPath = wrkBin();
  const load = (url: string, seconds: number): Promise<LoadResult> =>
    wrkPath ? wrk(wrkPath, url, seconds, CONNECTIONS) : autocannon(url, seconds, CONNECTIONS);
  const upstreamPort = await freePort();
  const upstream = await forkReady('upstream.js', [upstreamPort]);

  // The header provider stand-in: four headers, one of them a JWT-sized token.
  let providerCalls = 0;
  const provided = JSON.stringify({
    'x-workload-token': `eyJhbGciOiJFUzI1NiJ9.${'a'.repeat(400)}.${'b'.repeat(86)}`,
    'x-mesh-workload': 'echo',
    'x-mesh-cluster': 'bench',
    'x-request-class': 'standard',
  });
  const providerPort = await freePort();
  const provider = createServer((req, res) => {
    providerCalls += 1;
    // `/empty`: no headers (isolates the filter's fixed per-request cost from setting headers).
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(req.url === '/empty' ? '{}' : provided);
  });
  await new Promise<void>((r) => provider.listen(providerPort, '127.0.0.1', () => r()));

  const withFilter = renderEnvoyConfig('sidecar', {
    LISTEN_HOST: '127.0.0.1',
    SIDECAR_PORT: 0, // replaced per run
    ADMIN_PORT: 0,
    APP_PORT: upstreamPort,
    HEADER_PROVIDER_PORT: providerPort,
    HEADER_FILTER_WASM: headerFilterWasmPath(),
    HEADER_FILTER_CONFIG: headerFilterConfigValue({
      ...SIDECAR_HEADER_FILTER,
      header_cache_expiry: '60s',
    }),
  });
  const emptyAnswer = renderEnvoyConfig('sidecar', {
    LISTEN_HOST: '127.0.0.1',
    SIDECAR_PORT: 0,
    ADMIN_PORT: 0,
    APP_PORT: upstreamPort,
    HEADER_PROVIDER_PORT: providerPort,
    HEADER_FILTER_WASM: headerFilterWasmPath(),
    HEADER_FILTER_CONFIG: headerFilterConfigValue({
      ...SIDECAR_HEADER_FILTER,
      header_providing_service_path: '/empty',
      header_cache_expiry: '60s',
    }),
  });
  const configs = [
    { name: 'Envoy alone (sidecar config, no Wasm filter)', yaml: withFilter },
    { name: '+ Wasm header filter (4 headers added)', yaml: withFilter },
    { name: '+ Wasm header filter, provider answers {} (nothing added)', yaml: emptyAnswer },
  ];
  // EDGE_BENCH_WASM_BASELINE=<file.wasm>[,<file.wasm>...]: one more row per file, the same
  // 4-header filter config with another build of the module (e.g. main's), side by side.
  for (const file of (process.env.EDGE_BENCH_WASM_BASELINE ?? '').split(',').filter(Boolean)) {
    configs.push({
      name: `+ Wasm header filter (4 headers added), module ${basename(file)}`,
      yaml: withFilter.split(headerFilterWasmPath()).join(resolve(file)),
    });
  }

  // Every scenario is a listener of the same Envoy process (one worker): the rows differ by
  // their filter chain only, not by process start-up, memory layout or CPU placement.
  const ports = await Promise.all(configs.map(() => freePort()));
  const admin = await freePort();
  const root = parse(configs[0]!.yaml) as Root;
  root.admin.address.socket_address.port_value = admin;
  root.static_resources.listeners = configs.map((c, i) => listenerOf(c.yaml, i, ports[i]!, i > 0));
  const envoy = await infraBackend().envoy({
    name: 'bench-sidecar',
    configYaml: JSON.stringify(root, null, 2),
    adminPort: admin,
    readyPorts: ports,
    concurrency: ENVOY_CONCURRENCY,
  });
  const rows: Row[] = [];
  try {
    // Each filter's first fetch is on its first tick: wait until every listener's VM fetched.
    const t0 = Date.now();
    while (providerCalls < (configs.length - 1) * ENVOY_CONCURRENCY && Date.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (providerCalls < configs.length - 1)
      throw new Error('the filters never fetched their headers');
    const pid = envoyPid();
    for (let round = 1; round <= ROUNDS; round++) {
      const order = configs.map((c, i) => ({ ...c, port: ports[i]! }));
      for (const cfg of round % 2 === 1 ? order : order.reverse()) {
        const url = `http://127.0.0.1:${cfg.port}/bench`;
        await load(url, WARMUP);
        const e0 = procCpuSeconds(pid);
        const m0 = machineCpu();
        const t1 = process.hrtime.bigint();
        const result = await load(url, DURATION);
        const wall = Number(process.hrtime.bigint() - t1) / 1e9;
        const e1 = procCpuSeconds(pid);
        const m1 = machineCpu();
        const reqs = result.rps * wall;
        rows.push({
          name: cfg.name,
          round,
          result,
          envoyUsPerReq: ((e1 - e0) * 1e6) / reqs,
          machineUsPerReq: ((m1.busy - m0.busy) * 1e6) / reqs,
          envoyCores: (e1 - e0) / wall,
          machineBusy: (m1.busy - m0.busy) / (m1.total - m0.total),
        });
        console.error(
          `round ${round}: ${cfg.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50ms} ms, p99 ${result.p99ms} ms`,
        );
      }
    }
  } finally {
    await envoy.stop();
  }
  const callsDuringRun = providerCalls;
  upstream.kill();
  provider.close();

  const cpu = cpus()[0]?.model ?? 'unknown';
  console.log(
    `\n${new Date().toISOString()}; machine: ${cpus().length} CPUs, ${cpu}; Envoy --concurrency ${ENVOY_CONCURRENCY}; ` +
      `${wrkPath ? 'wrk -t1' : 'autocannon'} -c${CONNECTIONS}, ${WARMUP} s warm-up + ${DURATION} s per row, ${ROUNDS} rounds (order alternating)`,
  );
  console.log(
    '\n| round | scenario | requests/s | p50 ms | p99 ms | Envoy CPU µs/req | machine CPU µs/req | Envoy cores | machine busy | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.round} | ${r.name} | ${r.result.rps.toFixed(0)} | ${r.result.p50ms.toFixed(2)} | ${r.result.p99ms.toFixed(2)} | ${r.envoyUsPerReq.toFixed(1)} | ${r.machineUsPerReq.toFixed(1)} | ${r.envoyCores.toFixed(2)} | ${(r.machineBusy * 100).toFixed(0)} % | ${r.result.errors} |`,
    );
  }
  const mean = (name: string, f: (r: Row) => number): number => {
    const xs = rows.filter((r) => r.name === name).map(f);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const [alone, filtered] = configs.map((c) => c.name) as [string, string];
  console.log(
    '\n| scenario (mean of rounds) | requests/s | p50 ms | p99 ms | Envoy CPU µs/req | ratio to Envoy alone |',
  );
  console.log('|---|---|---|---|---|---|');
  const baseRps = mean(alone, (r) => r.result.rps);
  for (const name of configs.map((c) => c.name)) {
    const rps = mean(name, (r) => r.result.rps);
    console.log(
      `| ${name} | ${rps.toFixed(0)} | ${mean(name, (r) => r.result.p50ms).toFixed(2)} | ${mean(name, (r) => r.result.p99ms).toFixed(2)} | ${mean(name, (r) => r.envoyUsPerReq).toFixed(1)} | ${(rps / baseRps).toFixed(3)} |`,
    );
  }
  const perRound = rows
    .filter((r) => r.name === filtered)
    .map(
      (f) => f.result.rps / rows.find((a) => a.name === alone && a.round === f.round)!.result.rps,
    );
  console.log(
    `\nthroughput ratio per round: ${perRound.map((x) => x.toFixed(3)).join(', ')}; target ≥ 0.90: ${perRound.every((x) => x >= 0.9) ? 'met in every round' : 'NOT met in every round'}`,
  );
  console.log(
    `header provider calls during the whole run: ${callsDuringRun} (none on the request path)`,
  );
  const errors = rows.reduce((a, r) => a + r.result.errors, 0);
  if (errors > 0) throw new Error(`${errors} errors during the runs`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
