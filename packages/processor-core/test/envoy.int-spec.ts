// processor-core against a real Envoy (from the set-up step, started by @edge/testkit):
// real HTTP requests through Envoy's ext_proc filter to sample processors and an echo upstream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@edge/testkit';
import {
  BaseProcessor,
  compose,
  createExtProcServer,
  silentLogger,
  type BodyPhase,
  type ExtProcServer,
  type HeadersPhase,
  type Processor,
  type StreamContext,
} from '../src';
import { startEchoUpstream, startEnvoy, type Echo, type RunningEnvoy } from './support';

// ---- sample processors ------------------------------------------------------------------

/** Adds/removes request headers, and adds a response header. */
class HeaderMutator extends BaseProcessor<{ started: number }> {
  readonly name = 'mutator';
  override readonly mode = { responseHeaders: 'send' as const };
  createState() {
    return { started: Date.now() };
  }
  onRequestHeaders(ctx: StreamContext<{ started: number }>, p: HeadersPhase): void {
    p.setHeader('x-added-by', this.name);
    p.removeHeader('x-remove-me');
    p.appendHeader('x-chain', this.name);
    p.setHeader('x-seen-request-id', ctx.requestId !== '' ? 'yes' : 'no');
    p.addHeaderIfAbsent('x-keep', 'not-used');
    p.addHeaderIfAbsent('x-new', 'fresh');
  }
  onResponseHeaders(ctx: StreamContext, p: HeadersPhase): void {
    p.setHeader('x-resp-added', `${ctx.method} ${ctx.path} ${ctx.status}`);
  }
}

/** Denies /deny with a JSON 403. */
const denier: Processor = {
  name: 'denier',
  onRequestHeaders(ctx, p) {
    if (ctx.path.startsWith('/deny')) {
      p.immediateResponse({
        status: 403,
        body: { message: 'Forbidden', path: ctx.path },
        headers: { 'x-denied-by': 'denier' },
      });
    }
  },
};

/** Copies what Envoy sent it (attributes, metadata) into request headers for the upstream to echo. */
const inspector: Processor = {
  name: 'inspector',
  onRequestHeaders(ctx, p) {
    p.setHeader('x-attr-source', String(ctx.attribute('source.address') ?? ''));
    p.setHeader('x-attr-path', String(ctx.attribute('request.path') ?? ''));
    p.setHeader('x-md-dynamic', JSON.stringify(ctx.metadataContext['edge.test'] ?? null));
    p.setHeader('x-md-route', JSON.stringify(ctx.metadata('edge.route') ?? null));
  },
};

const second: Processor = {
  name: 'second',
  onRequestHeaders(_ctx, p) {
    p.appendHeader('x-chain', 'second');
  },
};

/** BUFFERED request body: wraps the JSON body; content-length must follow. */
class BodyWrapper extends BaseProcessor {
  readonly name = 'body';
  override readonly mode = { requestBody: 'buffered' as const };
  onRequestBody(_ctx: StreamContext, b: BodyPhase): void {
    b.replaceBody({
      wrapped: JSON.parse(b.body.toString('utf8')) as unknown,
      originalLength: b.body.length,
    });
  }
}

/** Observability mode: sees request and response headers, answers nothing. */
const observedPaths: string[] = [];
const observer: Processor = {
  name: 'observer',
  mode: { responseHeaders: 'send' },
  onResponseHeaders(ctx) {
    observedPaths.push(`${ctx.path} ${ctx.status}`);
  },
};

const slow: Processor = {
  name: 'slow',
  async onRequestHeaders(_ctx, p) {
    await new Promise((r) => setTimeout(r, 600));
    p.setHeader('x-slow', 'done');
  },
};

// ---- set-up: one processor server, three Envoys started in parallel ------------------------

let server: ExtProcServer;
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let main: RunningEnvoy;
let body: RunningEnvoy;
let failure: RunningEnvoy;
let observed: RunningEnvoy;
let grpcJsServer: ExtProcServer;
let observedGrpcJs: RunningEnvoy;
/** Envoy keeps an observability-mode stream open this long unless the server ends it. */
const DEFERRED_CLOSE_MS = 60_000;

beforeAll(async () => {
  upstream = await startEchoUpstream();
  server = createExtProcServer({
    host: '127.0.0.1',
    logger: silentLogger,
    appliedHeader: true,
    processors: [
      compose([new HeaderMutator(), denier, inspector], 'main'),
      second,
      new BodyWrapper(),
      slow,
      observer,
    ],
  });
  const port = await server.listen();
  grpcJsServer = createExtProcServer({
    host: '127.0.0.1',
    logger: silentLogger,
    transport: 'grpc-js',
    processor: observer,
  });
  const grpcJsPort = await grpcJsServer.listen();
  const deadPort = await freePort(); // nothing listens here: "processor down"
  // Three Envoys at once: unique base ids and ports keep them apart.
  [main, body, failure, observed, observedGrpcJs] = await Promise.all([
    startEnvoy('envoy-main', {
      upstreamPort: upstream.port,
      dynamicMetadata: { 'edge.test': { team: 'edge', tier: 1 } },
      routes: [
        { prefix: '/meta', metadata: { 'edge.route': { scopes: ['keys:read'] } } },
        { prefix: '/' },
      ],
      extProcs: [
        {
          name: 'main',
          port,
          mode: { responseHeaders: 'send' },
          requestAttributes: ['source.address', 'request.path', 'xds.route_metadata'],
          forwardingNamespaces: ['edge.test'],
        },
        { name: 'second', port },
      ],
    }),
    startEnvoy('envoy-body', {
      upstreamPort: upstream.port,
      extProcs: [{ name: 'body', port, mode: { requestBody: 'buffered' } }],
    }),
    startEnvoy('envoy-failure', {
      upstreamPort: upstream.port,
      routes: [
        { prefix: '/closed', disableExtProc: ['open', 'slow'] },
        { prefix: '/open', disableExtProc: ['closed', 'slow'] },
        { prefix: '/slow', disableExtProc: ['open', 'closed'] },
      ],
      extProcs: [
        { name: 'closed', port: deadPort, failureModeAllow: false },
        { name: 'open', port: deadPort, failureModeAllow: true },
        { name: 'slow', port, messageTimeoutMs: 100 },
      ],
    }),
    startEnvoy('envoy-observed', {
      upstreamPort: upstream.port,
      extProcs: [
        {
          name: 'observer',
          port,
          mode: { responseHeaders: 'send' },
          observabilityMode: true,
          deferredCloseTimeoutMs: DEFERRED_CLOSE_MS,
          failureModeAllow: true,
        },
      ],
    }),
    startEnvoy('envoy-observed-grpc-js', {
      upstreamPort: upstream.port,
      extProcs: [
        {
          name: 'observer',
          port: grpcJsPort,
          mode: { responseHeaders: 'send' },
          observabilityMode: true,
          deferredCloseTimeoutMs: DEFERRED_CLOSE_MS,
          failureModeAllow: true,
        },
      ],
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([
    main?.envoy.stop(),
    body?.envoy.stop(),
    failure?.envoy.stop(),
    observed?.envoy.stop(),
    observedGrpcJs?.envoy.stop(),
  ]);
  await server?.shutdown({ graceMs: 1000 });
  await grpcJsServer?.shutdown({ graceMs: 1000 });
  await upstream?.close();
});

describe('processor-core behind a real Envoy', () => {
  it('request header mutations reach the upstream; response mutations reach the client', async () => {
    const res = await fetch(main.url('/hello?q=1'), {
      headers: { 'x-remove-me': 'secret', 'x-keep': 'k' },
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(echo.headers['x-added-by']).toBe('mutator');
    expect(echo.headers['x-remove-me']).toBeUndefined();
    expect(echo.headers['x-keep']).toBe('k');
    expect(echo.headers['x-new']).toBe('fresh');
    expect(echo.headers['x-seen-request-id']).toBe('yes');
    expect(res.headers.get('x-resp-added')).toBe('GET /hello?q=1 200');
    expect(res.headers.get('x-upstream')).toBe('echo');
  });

  it('chains two ext_proc filters on one server (selected by gRPC metadata), in order', async () => {
    const res = await fetch(main.url('/chain'));
    const echo = (await res.json()) as Echo;
    expect(echo.headers['x-chain']).toBe('mutator, second');
    expect(res.headers.get('x-ext-procs-applied')).toBe('mutator,denier,inspector');
  });

  it('an immediate response answers the client with status and JSON body; upstream never sees it', async () => {
    const res = await fetch(main.url('/deny/this'));
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-denied-by')).toBe('denier');
    expect(await res.json()).toEqual({ message: 'Forbidden', path: '/deny/this' });
  });

  it('request attributes and forwarded dynamic metadata reach the processor', async () => {
    const echo = (await (await fetch(main.url('/attrs'))).json()) as Echo;
    expect(echo.headers['x-attr-source']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(echo.headers['x-attr-path']).toBe('/attrs');
    expect(JSON.parse(String(echo.headers['x-md-dynamic']))).toEqual({ team: 'edge', tier: 1 });
  });

  it('per-route metadata reaches the processor (xds.route_metadata attribute)', async () => {
    const echo = (await (await fetch(main.url('/meta/x'))).json()) as Echo;
    expect(JSON.parse(String(echo.headers['x-md-route']))).toEqual({ scopes: ['keys:read'] });
    const other = (await (await fetch(main.url('/plain'))).json()) as Echo;
    expect(JSON.parse(String(other.headers['x-md-route']))).toBeNull();
  });

  it('replaces a BUFFERED request body with the content-length right', async () => {
    const sent = JSON.stringify({ hello: 'world' });
    const res = await fetch(body.url('/post'), {
      method: 'POST',
      body: sent,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as Echo;
    expect(JSON.parse(echo.body)).toEqual({
      wrapped: { hello: 'world' },
      originalLength: sent.length,
    });
    expect(echo.headers['content-length']).toBe(String(echo.bodyLength));
    expect(echo.bodyLength).not.toBe(sent.length);
  });

  it('failure_mode_allow false: processor down gives a 5xx from Envoy', async () => {
    const res = await fetch(failure.url('/closed'));
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers.get('x-upstream')).toBeNull();
  });

  it('failure_mode_allow true: processor down passes the request through', async () => {
    const res = await fetch(failure.url('/open'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream')).toBe('echo');
  });

  it('message_timeout exceeded: Envoy answers 504 and the server survives', async () => {
    const t0 = Date.now();
    const res = await fetch(failure.url('/slow'));
    expect(res.status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(550);
    // The same server still serves other streams.
    expect((await fetch(main.url('/after-timeout'))).status).toBe(200);
  });

  it('counts streams in Prometheus metrics', async () => {
    const text = await server.metrics!.registry.metrics();
    expect(text).toMatch(/ext_proc_streams_total\{processor="main"\} [1-9]/);
    expect(text).toMatch(
      /ext_proc_phase_duration_seconds_count\{processor="mutator",phase="requestHeaders"\} [1-9]/,
    );
  });
});

// Observability mode on both transports: Envoy does not wait for answers and, left alone, holds
// each stream open until deferred_close_timeout; the server must end each one itself.
describe.each(['http2', 'grpc-js'] as const)(
  'observability mode behind a real Envoy (transport %s)',
  (transport) => {
    it('every ext_proc stream is closed once its last phase is in (none piles up)', async () => {
      const { envoy, srv } =
        transport === 'http2'
          ? { envoy: observed, srv: server }
          : { envoy: observedGrpcJs, srv: grpcJsServer };
      const n = 60;
      const { adminPort } = envoy.envoy.info;
      const stat = async (name: string): Promise<number> => {
        const text = await (
          await fetch(`http://127.0.0.1:${adminPort}/stats?filter=${name}`)
        ).text();
        const m = /: (\d+)$/m.exec(text);
        if (m === null) throw new Error(`no Envoy stat ${name} in: ${text}`);
        return Number(m[1]);
      };
      const cluster = /^cluster\.(ext_proc_\S+)\.upstream_rq_total/m.exec(
        await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).text(),
      )?.[1];
      expect(cluster).toBeDefined();
      const total0 = await stat(`cluster.${cluster}.upstream_rq_total$`);
      const tag = `/obs-${transport}/`;
      // In batches of 10 concurrent requests, as a client would send them.
      for (let i = 0; i < n; i += 10) {
        const batch = Array.from({ length: 10 }, (_, j) => fetch(envoy.url(`${tag}${i + j}`)));
        for (const res of await Promise.all(batch)) {
          expect(res.status).toBe(200);
          await res.arrayBuffer();
        }
      }
      // Each request opened one stream; the processor saw every response phase...
      expect((await stat(`cluster.${cluster}.upstream_rq_total$`)) - total0).toBe(n);
      const seen = (): string[] => observedPaths.filter((p) => p.startsWith(tag));
      await until(() => seen().length === n);
      expect(seen()).toContain(`${tag}0 200`);
      // ...and every stream is closed by the server, long before Envoy's deferred close (60 s).
      const t0 = Date.now();
      await until(async () => (await stat(`cluster.${cluster}.upstream_rq_active$`)) === 0, 10_000);
      expect(Date.now() - t0).toBeLessThan(DEFERRED_CLOSE_MS / 2);
      await until(() => srv.activeStreams === 0, 10_000);
    });
  },
);

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
