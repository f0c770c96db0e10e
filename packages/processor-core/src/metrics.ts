import { createServer, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { errorBody, errorDetails } from './error-body';
import type { PhaseKind } from './phase';

export interface MetricsOptions {
  /** Registry to register into. Default: a new Registry per server (never the global one). */
  registry?: Registry;
  /** Metric name prefix. Default `ext_proc_`. */
  prefix?: string;
  /** Phase latency buckets, seconds. */
  buckets?: number[];
}

const PHASES: readonly PhaseKind[] = [
  'requestHeaders',
  'requestBody',
  'requestTrailers',
  'responseHeaders',
  'responseBody',
  'responseTrailers',
];

type Child<T> = { observe?: (v: number) => void; inc?: (v?: number) => void } & T;

/**
 * Stream counts of one processor, kept as plain numbers on the hot path and copied into the
 * Prometheus metrics when they are collected (a prom-client label child hashes its labels on
 * every `inc`).
 */
export interface StreamCounts {
  active: number;
  total: number;
  errored: number;
}

/** Per-processor handles, resolved once so the hot path does no label lookups. */
export interface ProcessorMetrics {
  phase: Record<PhaseKind, Child<{ observe(v: number): void }>>;
  errors: Record<PhaseKind, Child<{ inc(v?: number): void }>>;
}

/**
 * Prometheus metrics of an ext_proc server, labelled by processor:
 * streams active/total/errored/rejected, per-phase hook latency, hook errors and immediate responses.
 */
export class ExtProcMetrics {
  readonly registry: Registry;
  readonly streamsActive: Gauge<'processor'>;
  readonly streamsTotal: Counter<'processor'>;
  readonly streamsErrored: Counter<'processor'>;
  readonly streamsRejected: Counter<'reason'>;
  readonly phaseDuration: Histogram<'processor' | 'phase'>;
  readonly hookErrors: Counter<'processor' | 'phase'>;
  readonly immediateResponses: Counter<'processor' | 'status'>;
  private readonly perProcessor = new Map<string, ProcessorMetrics>();
  private readonly streamCounts = new Map<string, StreamCounts>();

  constructor(opts: MetricsOptions = {}) {
    const p = opts.prefix ?? 'ext_proc_';
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    const counts = this.streamCounts;
    this.streamsActive = new Gauge({
      name: `${p}streams_active`,
      help: 'ext_proc streams currently open',
      labelNames: ['processor'],
      registers,
      collect() {
        for (const [processor, c] of counts) this.set({ processor }, c.active);
      },
    });
    this.streamsTotal = new Counter({
      name: `${p}streams_total`,
      help: 'ext_proc streams accepted',
      labelNames: ['processor'],
      registers,
      collect() {
        this.reset();
        for (const [processor, c] of counts) this.inc({ processor }, c.total);
      },
    });
    this.streamsErrored = new Counter({
      name: `${p}streams_errored_total`,
      help: 'ext_proc streams in which a hook failed or the stream failed (resets excluded)',
      labelNames: ['processor'],
      registers,
      collect() {
        this.reset();
        for (const [processor, c] of counts) if (c.errored > 0) this.inc({ processor }, c.errored);
      },
    });
    this.streamsRejected = new Counter({
      name: `${p}streams_rejected_total`,
      help: 'ext_proc streams refused (over the concurrency bound, draining, unknown processor)',
      labelNames: ['reason'],
      registers,
    });
    this.phaseDuration = new Histogram({
      name: `${p}phase_duration_seconds`,
      help: 'Time spent in a processor hook, per phase',
      labelNames: ['processor', 'phase'],
      buckets: opts.buckets ?? [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1,
      ],
      registers,
    });
    this.hookErrors = new Counter({
      name: `${p}hook_errors_total`,
      help: 'Hook throws/rejections, per phase',
      labelNames: ['processor', 'phase'],
      registers,
    });
    this.immediateResponses = new Counter({
      name: `${p}immediate_responses_total`,
      help: 'Immediate responses sent, by status',
      labelNames: ['processor', 'status'],
      registers,
    });
  }

  /**
   * The stream counts of `processor` (created at 0): the server updates them per stream; they
   * are what `streams_active`, `streams_total` and `streams_errored_total` report.
   */
  streams(processor: string): StreamCounts {
    let c = this.streamCounts.get(processor);
    if (c === undefined) {
      c = { active: 0, total: 0, errored: 0 };
      this.streamCounts.set(processor, c);
    }
    return c;
  }

  forProcessor(name: string): ProcessorMetrics {
    let m = this.perProcessor.get(name);
    if (m === undefined) {
      const phase = {} as ProcessorMetrics['phase'];
      const errors = {} as ProcessorMetrics['errors'];
      for (const ph of PHASES) {
        phase[ph] = this.phaseDuration.labels(name, ph);
        errors[ph] = this.hookErrors.labels(name, ph);
      }
      m = { phase, errors };
      this.perProcessor.set(name, m);
    }
    return m;
  }
}

export interface MetricsServer {
  /** The address it listens on. */
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A tiny HTTP server exposing `GET /metrics` from a registry (port 0 = pick a free one). It
 * listens on 127.0.0.1 unless `host` says otherwise; errors are JSON and never carry internals.
 */
export async function startMetricsServer(opts: {
  registry: Registry;
  port?: number;
  host?: string;
  path?: string;
}): Promise<MetricsServer> {
  const path = opts.path ?? '/metrics';
  const json = (res: ServerResponse, status: number, details: string) =>
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify(errorBody(status, details)));
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== path) {
      json(res, 404, errorDetails('NoRoute', `Only GET ${path} is served here`));
      return;
    }
    opts.registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body);
      },
      () => json(res, 500, errorDetails('MetricsFailed', 'The metrics could not be collected')),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    host: typeof addr === 'object' && addr !== null ? addr.address : '',
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
