// Real parts for the sidecar tests: a programmable header provider (a real HTTP server whose
// answers each test sets), an app that echoes its request headers, and the real Envoy running
// envoy/sidecar.yaml with the built Wasm filter.
import { type HeaderFilterConfig, headerFilterWasmPath } from '@edge/header-filter-wasm';
import { type EnvoyInfo, freePort, infraBackend, type Started } from '@edge/testkit';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { parse } from 'yaml';
import { headerFilterConfigValue, renderEnvoyConfig, SIDECAR_HEADER_FILTER } from '../src/render';

export interface ProviderAnswer {
  status: number;
  body: string;
  delayMs?: number;
}

/** The header provider stand-in: answers GET /headers with whatever `answer` says; counts calls. */
export class Provider {
  answer: ProviderAnswer = { status: 200, body: '{}' };
  /** Answers for particular paths (else `answer`). */
  readonly byPath = new Map<string, ProviderAnswer>();
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
      const { status, body, delayMs } = this.byPath.get(req.url ?? '') ?? this.answer;
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
  /** The second listener's URL, when `second` was given. */
  secondUrl?: string;
}

type Obj = Record<string, unknown>;
interface WasmConfig {
  config: { name: string; configuration: { value: string } };
}

/**
 * The rendered sidecar config with a second listener whose Wasm filter is another plugin
 * (`name`, its own provider path) in the same VM (same vm_id and code): Envoy then runs both
 * plugins' root contexts in each worker's VM.
 */
function withSecondPlugin(
  yaml: string,
  port: number,
  name: string,
  filter: HeaderFilterConfig,
): string {
  const root = parse(yaml) as {
    static_resources: { listeners: { name: string; address: Obj; filter_chains: Obj[] }[] };
  };
  const listeners = root.static_resources.listeners;
  const second = structuredClone(listeners[0]!);
  second.name = `${second.name}_second`;
  second.address = { socket_address: { address: '127.0.0.1', port_value: port } };
  const hcm = (second.filter_chains[0] as { filters: { typed_config: Obj }[] }).filters[0]!
    .typed_config;
  hcm.stat_prefix = 'sidecar_second';
  const filters = hcm.http_filters as { name: string; typed_config: WasmConfig }[];
  const wasm = filters.find((f) => f.name.startsWith('envoy.filters.http.wasm'))!.typed_config;
  wasm.config.name = name;
  wasm.config.configuration.value = JSON.stringify(filter);
  listeners.push(second);
  return JSON.stringify(root);
}

export async function startSidecar(opts: {
  appPort: number;
  providerPort: number;
  filter?: HeaderFilterConfig;
  concurrency?: number;
  /** A second listener with another plugin of the filter in the same VM. */
  second?: { name: string; filter: HeaderFilterConfig };
}): Promise<Sidecar> {
  const port = await freePort();
  const adminPort = await freePort();
  const secondPort = opts.second !== undefined ? await freePort() : undefined;
  const filter: HeaderFilterConfig = {
    ...SIDECAR_HEADER_FILTER,
    header_cache_expiry: '2s',
    header_providing_service_timeout: '500ms',
    ...opts.filter,
  };
  let configYaml = renderEnvoyConfig('sidecar', {
    LISTEN_HOST: '127.0.0.1',
    SIDECAR_PORT: port,
    ADMIN_PORT: adminPort,
    APP_PORT: opts.appPort,
    HEADER_PROVIDER_PORT: opts.providerPort,
    HEADER_FILTER_WASM: headerFilterWasmPath(),
    HEADER_FILTER_CONFIG: headerFilterConfigValue(filter),
  });
  if (opts.second !== undefined && secondPort !== undefined) {
    configYaml = withSecondPlugin(configYaml, secondPort, opts.second.name, {
      ...filter,
      ...opts.second.filter,
    });
  }
  const envoy = await infraBackend().envoy({
    name: 'sidecar-test',
    configYaml,
    adminPort,
    readyPorts: secondPort !== undefined ? [port, secondPort] : [port],
    concurrency: opts.concurrency ?? 2,
    logLevel: 'info',
  });
  return {
    ...envoy,
    stop: () => envoy.stop(),
    url: `http://127.0.0.1:${port}`,
    ...(secondPort !== undefined ? { secondUrl: `http://127.0.0.1:${secondPort}` } : {}),
  };
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
