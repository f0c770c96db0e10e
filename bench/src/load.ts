// Load generators shared by the benchmarks: wrk (closed loop, its own process), autocannon when
// wrk is missing, and src/fixed-rate.ts (open loop at a fixed rate, its own process). A request
// may carry headers (e.g. Authorization) and a JSON body (then it is a POST).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadToolPaths } from '@edge/testkit';

const run = promisify(execFile);

/** What each request of a run sends. */
/**
 * The front proxy's per-client rate limit raised out of the way: benchmark load comes from one
 * address, so the default limit would be what gets measured.
 */
export const UNLIMITED_CLIENT = { PER_CLIENT_RPS: 10_000_000, PER_CLIENT_BURST: 10_000_000 };

export interface LoadRequest {
  headers?: Record<string, string>;
  /** A JSON body: the request becomes a POST with `content-type: application/json`. */
  body?: string;
  /** wrk only: a Lua script of your own (e.g. a fresh header per request); replaces `body`'s. */
  wrkScript?: string;
}

export interface LoadResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  /** Non-2xx/3xx responses plus socket errors/timeouts. */
  errors: number;
  requests: number;
}

export interface FixedRateResult {
  rps: number;
  p50us: number;
  p99us: number;
  errors: number;
}

/** wrk from `.tools/infra.env` (set-up) or Debian's /usr/bin/wrk; undefined when missing. */
export function wrkBin(): string | undefined {
  const env = join(loadToolPaths().repoRoot, '.tools/infra.env');
  const fromEnv = existsSync(env)
    ? /^WRK_BIN=(.*)$/m.exec(readFileSync(env, 'utf8'))?.[1]
    : undefined;
  for (const p of [fromEnv, '/usr/bin/wrk']) if (p !== undefined && existsSync(p)) return p;
  return undefined;
}

const toMs = (v: string, unit: string): number =>
  Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);

export async function wrk(
  bin: string,
  url: string,
  seconds: number,
  connections: number,
  req: LoadRequest = {},
): Promise<LoadResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(req.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (req.body !== undefined || req.wrkScript !== undefined) {
    const lua = join(mkdtempSync(join(tmpdir(), 'edge-bench-')), 'post.lua');
    writeFileSync(
      lua,
      req.wrkScript ??
        `wrk.method = "POST"\nwrk.body = ${JSON.stringify(req.body)}\nwrk.headers["Content-Type"] = "application/json"\n`,
    );
    args.push('-s', lua);
  }
  const { stdout } = await run(bin, [...args, url]);
  const lat = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(stdout);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN),
    p50ms: lat('50'),
    p99ms: lat('99'),
    errors: num(/Non-2xx or 3xx responses:\s+(\d+)/) + socketErrors,
    requests: num(/(\d+) requests in/),
  };
}

export async function autocannon(
  url: string,
  seconds: number,
  connections: number,
  req: LoadRequest = {},
): Promise<LoadResult> {
  const bin = require.resolve('autocannon/autocannon.js');
  const args = [bin, '-j', '-c', String(connections), '-d', String(seconds)];
  for (const [k, v] of Object.entries(req.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (req.body !== undefined) {
    args.push('-m', 'POST', '-H', 'content-type=application/json', '-b', req.body);
  }
  const { stdout } = await run(process.execPath, [...args, url], { maxBuffer: 1 << 24 });
  const r = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    rps: r.requests.average,
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    errors: r.non2xx + r.errors,
    requests: r.requests.total,
  };
}

/** Open-loop fixed rate (src/fixed-rate.ts in its own process), µs latency. */
export async function fixedRate(
  url: string,
  rate: number,
  seconds: number,
  req: LoadRequest = {},
): Promise<FixedRateResult> {
  const args = [join(__dirname, 'fixed-rate.js'), url, String(rate), String(seconds), '16'];
  if (req.body !== undefined) args.push(req.body);
  const { stdout } = await run(process.execPath, args, {
    env: { ...process.env, EDGE_FIXED_RATE_HEADERS: JSON.stringify(req.headers ?? {}) },
  });
  return JSON.parse(stdout) as FixedRateResult;
}

/** Envoy admin counters whose names start with `prefix` (GET /stats?filter=...). */
export function envoyCounters(adminPort: number, prefix: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const path = `/stats?filter=${encodeURIComponent(`^${prefix.replace(/\./g, '\\.')}`)}`;
    get({ host: '127.0.0.1', port: adminPort, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const out = new Map<string, number>();
        for (const line of body.split('\n')) {
          const m = /^([^:]+): (\d+)$/.exec(line.trim());
          if (m) out.set(m[1]!, Number(m[2]));
        }
        resolve(out);
      });
    }).on('error', reject);
  });
}
