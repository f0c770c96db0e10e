// Integration-test support: an echo upstream (node:http) and an Envoy launcher over @edge/testkit.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { freePort, infraBackend, type Started, type EnvoyInfo } from '@edge/testkit';
import { buildEnvoyConfig, type EnvoyConfigOptions } from '../src/testing';

export interface Echo {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  bodyLength: number;
}

/** An upstream that answers every request with what it received, as JSON. */
export async function startEchoUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const echo: Echo = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: body.toString('utf8'),
        bodyLength: body.length,
      };
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'echo' });
      res.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface RunningEnvoy {
  port: number;
  url: (path: string) => string;
  envoy: Started<EnvoyInfo>;
}

/** Starts a real Envoy (unique base id, own admin port) with a built config; fails loudly if Envoy is missing. */
export async function startEnvoy(
  name: string,
  opts: Omit<EnvoyConfigOptions, 'listenerPort'>,
): Promise<RunningEnvoy> {
  const port = await freePort();
  const configYaml = buildEnvoyConfig({ ...opts, listenerPort: port });
  const envoy = await infraBackend().envoy({
    name,
    configYaml,
    readyPorts: [port],
    concurrency: 1,
  });
  return { port, url: (p) => `http://127.0.0.1:${port}${p}`, envoy };
}
