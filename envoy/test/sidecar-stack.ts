// Real parts for the sidecar tests: a programmable header provider (a real HTTP server whose
// answers each test sets), an app that echoes its request headers, and the real Envoy running
// envoy/sidecar.yaml with the built Wasm filter.
import { type HeaderFilterConfig, headerFilterWasmPath } from '@edge/header-filter-wasm';
import { type EnvoyInfo, freePort, infraBackend, type Started } from '@edge/testkit';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { headerFilterConfigValue, renderEnvoyConfig, SIDECAR_HEADER_FILTER } from '../src/render';

export interface ProviderAnswer {
  status: number;
  body: string;
  delayMs?: number;
}

/** The header provider stand-in: answers GET /headers with whatever `answer` says; counts calls. */
export class Provider {
  answer: ProviderAnswer = { status: 200, body: '{}' };
  calls = 0;
  lastRequest: { path: string; host: string | undefined; method: string } | undefined;
  private server: Server | undefined;

  constructor(readonly port: number) {}

  json(headers: Record<string, unknown>): void {
    this.answer = { status: 200, body: JSON.stringify(headers) };
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.calls += 1;
      this.lastRequest = { path: req.url ?? '', host: req.headers.host, method: req.method ?? '' };
      const { status, body, delayMs } = this.answer;
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      };
      if (delayMs) setTimeout(send, delayMs);
      else send();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The workload behind the sidecar: answers every request with its headers as JSON. */
export async function startHeaderEcho(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
  });
  // Longer than Envoy keeps idle upstream connections: no reuse of a connection Node just closed.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Sidecar extends Started<EnvoyInfo> {
  url: string;
}

export async function startSidecar(opts: {
  appPort: number;
  providerPort: number;
  filter?: HeaderFilterConfig;
  concurrency?: number;
}): Promise<Sidecar> {
  const port = await freePort();
  const adminPort = await freePort();
  const envoy = await infraBackend().envoy({
    name: 'sidecar-test',
    configYaml: renderEnvoyConfig('sidecar', {
      LISTEN_HOST: '127.0.0.1',
      SIDECAR_PORT: port,
      ADMIN_PORT: adminPort,
      APP_PORT: opts.appPort,
      HEADER_PROVIDER_PORT: opts.providerPort,
      HEADER_FILTER_WASM: headerFilterWasmPath(),
      HEADER_FILTER_CONFIG: headerFilterConfigValue({
        ...SIDECAR_HEADER_FILTER,
        header_cache_expiry: '2s',
        header_providing_service_timeout: '500ms',
        ...opts.filter,
      }),
    }),
    adminPort,
    readyPorts: [port],
    concurrency: opts.concurrency ?? 2,
    logLevel: 'info',
  });
  return { ...envoy, stop: () => envoy.stop(), url: `http://127.0.0.1:${port}` };
}

/** GET through the sidecar → status and the headers the app received. */
export async function call(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; received: IncomingHttpHeaders; body: string }> {
  const res = await fetch(`${url}/anything`, { headers, signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  let received: IncomingHttpHeaders = {};
  if (res.status === 200) received = JSON.parse(body) as IncomingHttpHeaders;
  return { status: res.status, received, body };
}

/** Polls until `check` passes (generous: the machine is shared). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms`);
}
