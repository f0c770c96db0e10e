// `pnpm --filter @edge/bench bench:core`: Envoy alone vs Envoy + a processor-core processor
// (request headers) vs the same processor also buffering the request body. Load comes from a
// separate process at 127.0.0.1: wrk (closed loop, max throughput) when installed, else
// autocannon; then a fixed moderate rate (open loop, µs latency) for the added p50.
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildEnvoyConfig } from '@edge/processor-core/testing';
import { freePort, infraBackend, loadToolPaths } from '@edge/testkit';

const run = promisify(execFile);
const DURATION = Number(process.env.EDGE_BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.EDGE_BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.EDGE_BENCH_CONNECTIONS ?? 32);
const FIXED_RATE = Number(process.env.EDGE_BENCH_RATE ?? 1000);
const POST_BODY = JSON.stringify({ hello: 'world', items: [1, 2, 3], note: 'a small JSON body' });

interface Row {
  name: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

function child(script: string, port: number): Promise<ChildProcess> {
  const c = fork(join(__dirname, script), [String(port)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    c.once('message', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

function wrkBin(): string | undefined {
  const env = join(loadToolPaths().repoRoot, '.tools/infra.env');
  const fromEnv = existsSync(env)
    ? /^WRK_BIN=(.*)$/m.exec(readFileSync(env, 'utf8'))?.[1]
    : undefined;
  for (const p of [fromEnv, '/usr/bin/wrk']) if (p !== undefined && existsSync(p)) return p;
  return undefined;
}

const toMs = (v: string, unit: string): number =>
  Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);

async function wrk(
  bin: string,
  url: string,
  seconds: number,
  post: boolean,
): Promise<Omit<Row, 'name'>> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency'];
  if (post) {
    const dir = mkdtempSync(join(tmpdir(), 'edge-bench-'));
    const lua = join(dir, 'post.lua');
    writeFileSync(
      lua,
      `wrk.method = "POST"\nwrk.body = '${POST_BODY}'\nwrk.headers["Content-Type"] = "application/json"\n`,
    );
    args.push('-s', lua);
  }
  const { stdout } = await run(bin, [...args, url]);
  const lat = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(stdout);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  return { rps, p50ms: lat('50'), p99ms: lat('99'), errors };
}

async function autocannon(url: string, seconds: number, post: boolean): Promise<Omit<Row, 'name'>> {
  const bin = require.resolve('autocannon/autocannon.js');
  const args = [bin, '-j', '-c', String(CONNECTIONS), '-d', String(seconds)];
  if (post) args.push('-m', 'POST', '-H', 'content-type=application/json', '-b', POST_BODY);
  const { stdout } = await run(process.execPath, [...args, url], { maxBuffer: 1 << 24 });
  const r = JSON.parse(stdout) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
  };
  return { rps: r.requests.average, p50ms: r.latency.p50, p99ms: r.latency.p99, errors: r.non2xx };
}

async function fixedRate(
  url: string,
  post: boolean,
): Promise<{ p50us: number; p99us: number; errors: number; rps: number }> {
  const args = [join(__dirname, 'fixed-rate.js'), url, String(FIXED_RATE), String(DURATION), '16'];
  if (post) args.push(POST_BODY);
  const { stdout } = await run(process.execPath, args);
  return JSON.parse(stdout) as { p50us: number; p99us: number; errors: number; rps: number };
}

async function main(): Promise<void> {
  const upstreamPort = await freePort();
  const procPort = await freePort();
  const listenerPort = await freePort();
  const kids = [
    await child('upstream.js', upstreamPort),
    await child('processor-server.js', procPort),
  ];
  const configYaml = buildEnvoyConfig({
    listenerPort,
    upstreamPort,
    routes: [
      { prefix: '/direct', disableExtProc: true },
      { prefix: '/headers', disableExtProc: ['body'] },
      { prefix: '/body', disableExtProc: ['headers'] },
    ],
    extProcs: [
      { name: 'headers', port: procPort, messageTimeoutMs: 2000 },
      { name: 'body', port: procPort, mode: { requestBody: 'buffered' }, messageTimeoutMs: 2000 },
    ],
  });
  const envoy = await infraBackend().envoy({
    name: 'bench-envoy',
    configYaml,
    readyPorts: [listenerPort],
    concurrency: 1,
    logLevel: 'error',
  });
  const bin = wrkBin();
  const load = (url: string, s: number, post: boolean): Promise<Omit<Row, 'name'>> =>
    bin !== undefined ? wrk(bin, url, s, post) : autocannon(url, s, post);
  const base = `http://127.0.0.1:${listenerPort}`;
  const scenarios = [
    { name: 'Envoy -> upstream (GET)', path: '/direct', post: false },
    { name: '+ processor-core, request headers (GET)', path: '/headers', post: false },
    { name: 'Envoy -> upstream (POST small body)', path: '/direct', post: true },
    { name: '+ processor-core, headers + BUFFERED body (POST)', path: '/body', post: true },
  ];
  const rows: Row[] = [];
  try {
    for (const s of scenarios) {
      await load(base + s.path, WARMUP, s.post);
      rows.push({ name: s.name, ...(await load(base + s.path, DURATION, s.post)) });
    }
    const fixed = [];
    for (const s of [scenarios[0]!, scenarios[1]!]) {
      await fixedRate(base + s.path, s.post);
      fixed.push({ name: s.name, ...(await fixedRate(base + s.path, s.post)) });
    }

    const cpu = cpus()[0]?.model ?? 'unknown';
    console.log(
      `\nmachine: ${cpus().length} CPUs, ${cpu}; node ${process.version}; Envoy --concurrency 1`,
    );
    console.log(
      `load: ${bin !== undefined ? `wrk -t1 -c${CONNECTIONS}` : `autocannon -c${CONNECTIONS}`}, ${DURATION}s per row after ${WARMUP}s warm-up\n`,
    );
    const alone = (r: Row): Row => (r.name.includes('POST') ? rows[2]! : rows[0]!);
    console.log('| scenario | requests/s | p50 ms | p99 ms | ratio to Envoy alone | non-2xx |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50ms.toFixed(3)} | ${r.p99ms.toFixed(3)} | ${(r.rps / alone(r).rps).toFixed(2)} | ${r.errors} |`,
      );
    }
    console.log(
      `\nfixed rate ${FIXED_RATE} req/s, 16 connections, ${DURATION}s (open loop, µs timer):\n`,
    );
    console.log('| scenario | achieved req/s | p50 ms | p99 ms | errors |');
    console.log('|---|---:|---:|---:|---:|');
    for (const f of fixed)
      console.log(
        `| ${f.name} | ${f.rps.toFixed(0)} | ${(f.p50us / 1000).toFixed(3)} | ${(f.p99us / 1000).toFixed(3)} | ${f.errors} |`,
      );
    const added = (fixed[1]!.p50us - fixed[0]!.p50us) / 1000;
    const ratio = rows[1]!.rps / rows[0]!.rps;
    console.log(
      `\nheader processor: ${(ratio * 100).toFixed(0)}% of Envoy-alone throughput (target >= 50%): ${ratio >= 0.5 ? 'MET' : 'MISSED'}`,
    );
    console.log(
      `added p50 at ${FIXED_RATE} req/s: ${added.toFixed(3)} ms (target <= 0.5 ms): ${added <= 0.5 ? 'MET' : 'MISSED'}`,
    );
  } finally {
    await envoy.stop();
    for (const k of kids) k.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
