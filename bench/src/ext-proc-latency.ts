// EDGE_BENCH_EXT_PROC_LOG=FILE (bench:core): Envoy writes one access-log line per request with
// the request's duration and, for each ext_proc filter, the request-header call's latency as
// Envoy measured it (the filter's logging info, `FILTER_STATE(...:FIELD:request_header_latency_us)`).
// The bench then prints both distributions per measured fixed-rate window, which tells a tail
// spent waiting for the processor from a tail spent elsewhere (Envoy, the upstream, the client).
import { readFileSync } from 'node:fs';
import { quantile } from './quantile';

/** Adds the access log to the HTTP connection manager of a buildEnvoyConfig() bootstrap. */
export function withExtProcLatencyLog(configJson: string, path: string, filters: string[]): string {
  const config = JSON.parse(configJson) as {
    static_resources: {
      listeners: { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] }[];
    };
  };
  const hcm = config.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
  const fields = filters
    .map((f) => `%FILTER_STATE(envoy.filters.http.ext_proc.${f}:FIELD:request_header_latency_us)%`)
    .join(' ');
  hcm.access_log = [
    {
      name: 'envoy.access_loggers.file',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
        path,
        log_format: {
          text_format_source: {
            inline_string: `%START_TIME(%s.%6f)% %COMMON_DURATION(DS_RX_BEG:DS_TX_END:us)% ${fields}\n`,
          },
        },
      },
    },
  ];
  return JSON.stringify(config, null, 2);
}

export interface Window {
  id: string;
  name: string;
  /** Epoch seconds. */
  from: number;
  to: number;
}

export interface LatencySummary {
  window: Window;
  requests: number;
  /** Request duration (first byte in to last byte out at Envoy), µs. */
  duration: Quantiles;
  /** The ext_proc request-header call as Envoy timed it, µs (undefined: no processor). */
  extProc: Quantiles | undefined;
}

interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

function quantiles(xs: number[]): Quantiles | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => quantile(s, p)!;
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: q(1) };
}

/** One access-log line: Envoy's request start (epoch s), its duration and the ext_proc call (µs). */
export interface LoggedRequest {
  start: number;
  /** NaN when the line has none. */
  durationUs: number;
  /** The first ext_proc filter's request-header call that ran, if any. */
  extProcUs: number | undefined;
}

/** Reads the log once and returns the lines of each window. */
export function readWindows(
  path: string,
  windows: readonly Window[],
): Map<Window, LoggedRequest[]> {
  const byWindow = new Map<Window, LoggedRequest[]>(windows.map((w) => [w, []]));
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const parts = line.split(' ');
    const start = Number(parts[0]);
    const w = windows.find((x) => start >= x.from && start < x.to);
    if (w === undefined) continue;
    byWindow.get(w)!.push({
      start,
      durationUs: Number(parts[1]),
      extProcUs: parts
        .slice(2)
        .map(Number)
        .find((v) => Number.isFinite(v)),
    });
  }
  return byWindow;
}

/** Reads the log and summarizes each window's lines. */
export function summarizeExtProcLatency(path: string, windows: Window[]): LatencySummary[] {
  const out: LatencySummary[] = [];
  for (const [window, reqs] of readWindows(path, windows)) {
    const d = reqs.map((r) => r.durationUs).filter((v) => Number.isFinite(v));
    const duration = quantiles(d);
    if (duration === undefined) continue;
    const e = reqs.flatMap((r) => (r.extProcUs !== undefined ? [r.extProcUs] : []));
    out.push({ window, requests: d.length, duration, extProc: quantiles(e) });
  }
  return out;
}

export function printExtProcLatency(summaries: LatencySummary[]): void {
  const ms = (us: number | undefined): string => (us === undefined ? '-' : (us / 1000).toFixed(3));
  console.log(
    '\nper request, as Envoy timed it (EDGE_BENCH_EXT_PROC_LOG), fixed-rate windows, ms:\n',
  );
  console.log(
    '| scenario | requests | duration p50 | p90 | p99 | p99.9 | max | ext_proc call p50 | p90 | p99 | p99.9 | max |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of summaries) {
    const d = s.duration;
    const e = s.extProc;
    console.log(
      `| ${s.window.name} | ${s.requests} | ${ms(d.p50)} | ${ms(d.p90)} | ${ms(d.p99)} | ${ms(d.p999)} | ${ms(d.max)} | ${ms(e?.p50)} | ${ms(e?.p90)} | ${ms(e?.p99)} | ${ms(e?.p999)} | ${ms(e?.max)} |`,
    );
  }
}
