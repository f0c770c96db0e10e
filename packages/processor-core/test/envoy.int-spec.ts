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
    ],
  });
  const port = await server.listen();
  const deadPort = await freePort(); // nothing listens here: "processor down"
  // Three Envoys at once: unique base ids and ports keep them apart.
  [main, body, failure] = await Promise.all([
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
  ]);
});

afterAll(async () => {
  await Promise.all([main?.envoy.stop(), body?.envoy.stop(), failure?.envoy.stop()]);
  await server?.shutdown({ graceMs: 1000 });
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
