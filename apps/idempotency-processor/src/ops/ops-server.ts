import { createServer, type Server } from 'node:http';
import { type Registry } from 'prom-client';

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The operational HTTP endpoint: `GET /metrics` (Prometheus) and `GET /health`, which is 200
 * `{"status":"ok","redis":"up"}` while Redis is usable and 503 `{"status":"degraded",
 * "redis":"down"}` otherwise (the processor still answers then, per route policy).
 */
export async function startOpsServer(opts: {
  registry: Registry;
  redisUp: () => boolean;
  host: string;
  port: number;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { 'content-type': 'application/json' }).end('{"status":405}');
      return;
    }
    if (path === '/health') {
      const up = opts.redisUp();
      res
        .writeHead(up ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        })
        .end(JSON.stringify({ status: up ? 'ok' : 'degraded', redis: up ? 'up' : 'down' }));
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":404}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
