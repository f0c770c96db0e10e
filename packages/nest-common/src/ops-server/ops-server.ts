import { createServer } from 'node:http';
import { type Registry } from 'prom-client';

/** The answer of GET /health: its status code and JSON body. */
export interface HealthReport {
  code: number;
  body: unknown;
}

export interface OpsServerOptions {
  /** Where to listen (the app's validated config; port 0 = a free one). */
  host: string;
  port: number;
  /** Served as GET /metrics (Prometheus text format). */
  registry: Registry;
  /** Called on every GET /health. */
  health(): HealthReport;
  /** Where a failed metrics collection is logged (pino-style `error(obj, msg)`). */
  logger: { error(obj: object, msg: string): void };
}

export interface OpsServer {
  /** The port actually bound. */
  readonly port: number;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

const json = { 'content-type': 'application/json' };

/**
 * The operational HTTP server of an app that serves no HTTP API of its own: `GET /health` (the
 * app's report, never cached) and `GET /metrics` (the registry; a collection failure is logged and answered
 * 500 `{ message, status, details: "MetricsFailed" }`). Anything else is a JSON 404.
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const { registry } = opts;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      const h = opts.health();
      res.writeHead(h.code, { ...json, 'cache-control': 'no-store' }).end(JSON.stringify(h.body));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: unknown) => {
          opts.logger.error({ event: 'metrics_failed', err: String(err) }, 'metrics failed');
          res.writeHead(500, json).end(
            JSON.stringify({
              message: 'Internal Server Error',
              status: 500,
              details: 'MetricsFailed',
            }),
          );
        },
      );
      return;
    }
    res
      .writeHead(404, json)
      .end(JSON.stringify({ message: 'Not Found', status: 404, details: 'NoRoute' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
