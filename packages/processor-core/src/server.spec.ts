// In-process server tests over loopback gRPC (no external infrastructure).
import { credentials, status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { health } from '@edge/protos';
import { startMetricsServer } from './metrics';
import { Gauge, Registry } from 'prom-client';
import { silentLogger, type Logger } from './logger';
import type { Processor } from './processor';
import { createExtProcServer, EXT_PROC_SERVICE, type ExtProcServer } from './server';
import { connectHarness } from './testing';

const GET = { ':method': 'GET', ':path': '/x', 'x-request-id': 'r-1' };
const servers: ExtProcServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ graceMs: 100 })));
});

let transport: 'http2' | 'grpc-js' = 'http2';

async function start(
  opts: Parameters<typeof createExtProcServer>[0],
): Promise<{ server: ExtProcServer; address: string }> {
  const server = createExtProcServer({
    host: '127.0.0.1',
    logger: silentLogger,
    transport,
    ...opts,
  });
  servers.push(server);
  const port = await server.listen();
  return { server, address: `127.0.0.1:${port}` };
}

const tagger = (name: string): Processor => ({
  name,
  onRequestHeaders: (_c, ph) => ph.setHeader('x-by', name),
});

function healthCheck(address: string, service = ''): Promise<number> {
  const client = new health.HealthClient(address, credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.check({ service }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    });
  });
}

// Every behaviour holds for both transports: the default node:http2 one and grpc-js.
describe.each(['http2', 'grpc-js'] as const)('createExtProcServer (transport %s)', (t) => {
  beforeEach(() => {
    transport = t;
  });

  it('serves a processor over gRPC and ends the stream OK when Envoy half-closes', async () => {
    const { address } = await start({ processor: tagger('a') });
    const h = connectHarness({ address });
    const r = await h.requestHeaders(GET);
    expect(r.headers.set['x-by']).toBe('a');
    expect((await h.end()).code).toBe(status.OK);
  });

  it('gives processors the stream gRPC initial metadata (no pseudo or transport headers)', async () => {
    let seen: Readonly<Record<string, string>> = {};
    const { address } = await start({
      processor: { name: 'md', onRequestHeaders: (ctx) => void (seen = ctx.grpcMetadata) },
    });
    const h = connectHarness({ address, metadata: { 'x-route': 'r1' } });
    await h.requestHeaders(GET);
    await h.end();
    expect(seen['x-route']).toBe('r1');
    expect(Object.keys(seen).some((k) => k.startsWith(':'))).toBe(false);
    expect(seen['content-type']).toBeUndefined();
    expect(seen.te).toBeUndefined();
  });

  it('selects a processor per filter by gRPC metadata; unknown names are refused', async () => {
    const { address } = await start({ processors: [tagger('a'), tagger('b')] });
    const b = connectHarness({ address, processor: 'b' });
    expect((await b.requestHeaders(GET)).headers.set['x-by']).toBe('b');
    await b.end();
    const none = connectHarness({ address });
    await expect(none.requestHeaders(GET)).rejects.toThrow();
    expect((await none.closed).code).toBe(status.INVALID_ARGUMENT);
    const bad = connectHarness({ address, processor: 'zzz' });
    await expect(bad.requestHeaders(GET)).rejects.toThrow();
    expect((await bad.closed).code).toBe(status.NOT_FOUND);
  });

  it('a throwing hook never kills the stream or the server', async () => {
    const p: Processor = {
      name: 'flaky',
      mode: { responseHeaders: 'send' },
      onRequestHeaders() {
        throw new Error('x');
      },
      onResponseHeaders: (_c, ph) => ph.setHeader('x-alive', 'yes'),
    };
    const { address } = await start({ processor: p, errorPolicy: 'continue' });
    const h = connectHarness({ address });
    expect((await h.requestHeaders(GET)).unchanged).toBe(true);
    expect((await h.responseHeaders({ ':status': '200' })).headers.set['x-alive']).toBe('yes');
    await h.end();
  });

  it('bounds concurrent streams: the excess is refused with RESOURCE_EXHAUSTED', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p: Processor = { name: 'hold', onRequestHeaders: () => gate };
    const { server, address } = await start({ processor: p, maxConcurrentStreams: 2 });
    const a = connectHarness({ address });
    const b = connectHarness({ address });
    const ra = a.requestHeaders(GET);
    const rb = b.requestHeaders(GET);
    await waitFor(() => server.activeStreams === 2);
    const c = connectHarness({ address });
    await expect(c.requestHeaders(GET)).rejects.toThrow();
    expect((await c.closed).code).toBe(status.RESOURCE_EXHAUSTED);
    release();
    await Promise.all([ra, rb]);
    await Promise.all([a.end(), b.end()]);
    await waitFor(() => server.activeStreams === 0);
    const text = await server.metrics!.registry.metrics();
    expect(text).toContain('ext_proc_streams_rejected_total{reason="concurrency"} 1');
    expect(text).toContain('ext_proc_streams_total{processor="hold"} 2');
  });

  it('serves grpc.health.v1 Check and Watch, and goes NOT_SERVING at shutdown', async () => {
    const { server, address } = await start({ processor: tagger('a') });
    const Serving = health.HealthCheckResponse_ServingStatus;
    expect(await healthCheck(address)).toBe(Serving.SERVING);
    expect(await healthCheck(address, EXT_PROC_SERVICE)).toBe(Serving.SERVING);
    await expect(healthCheck(address, 'nope')).rejects.toMatchObject({ code: status.NOT_FOUND });

    const client = new health.HealthClient(address, credentials.createInsecure());
    const seen: number[] = [];
    const watch = client.watch({ service: '' });
    watch.on('data', (r: health.HealthCheckResponse) => seen.push(r.status));
    watch.on('error', () => undefined);
    await waitFor(() => seen.length === 1);
    server.health.set('NOT_SERVING');
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([Serving.SERVING, Serving.NOT_SERVING]);
    expect(await healthCheck(address)).toBe(Serving.NOT_SERVING);
    watch.cancel();
    client.close();
  });

  it('drains in-flight streams at shutdown and refuses new ones', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p: Processor = {
      name: 'hold',
      onRequestHeaders: async (_c, ph) => {
        await gate;
        ph.setHeader('x-done', '1');
      },
    };
    const { server, address } = await start({ processor: p });
    const a = connectHarness({ address });
    const ra = a.requestHeaders(GET);
    await waitFor(() => server.activeStreams === 1);
    const stopped = server.shutdown({ graceMs: 5000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(server.health.get()).toBe('NOT_SERVING');
    release();
    expect((await ra).headers.set['x-done']).toBe('1');
    expect((await a.end()).code).toBe(status.OK);
    await stopped;
  });

  it('forces shutdown after the grace period', async () => {
    const p: Processor = {
      name: 'stuck',
      onRequestHeaders: () => new Promise<void>(() => undefined),
    };
    const { server, address } = await start({ processor: p });
    const a = connectHarness({ address });
    void a.requestHeaders(GET).catch(() => undefined);
    await waitFor(() => server.activeStreams === 1);
    const t0 = Date.now();
    await server.shutdown({ graceMs: 200 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(server.activeStreams).toBe(0);
    expect((await a.closed).code).not.toBe(status.OK);
  });

  it('logs an Envoy reset at debug, not error', async () => {
    const lines: string[] = [];
    const mk = (level: string) => () => void lines.push(level);
    const logger: Logger = {
      debug: mk('debug'),
      info: mk('info'),
      warn: mk('warn'),
      error: mk('error'),
    };
    const p: Processor = {
      name: 'hold',
      onRequestHeaders: () => new Promise<void>(() => undefined),
    };
    const { server, address } = await start({ processor: p, logger });
    const a = connectHarness({ address });
    void a.requestHeaders(GET).catch(() => undefined);
    await waitFor(() => server.activeStreams === 1);
    await a.cancel();
    await waitFor(() => server.activeStreams === 0);
    expect(lines).toContain('debug');
    expect(lines).not.toContain('error');
  });

  it('observability mode: ends the stream OK after the last expected phase (no answer, no half-close)', async () => {
    const ended: string[] = [];
    const p: Processor = {
      name: 'obs',
      mode: { responseHeaders: 'send' },
      onStreamEnd: (ctx) => void ended.push(ctx.requestId),
    };
    const { server, address } = await start({ processor: p });
    const h = connectHarness({ address });
    let closed = false;
    void h.closed.then(() => (closed = true));
    await h.requestHeaders(GET, { observabilityMode: true });
    await waitFor(() => server.activeStreams === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false); // response headers still expected
    await h.responseHeaders({ ':status': '200' }, { observabilityMode: true });
    // Envoy never half-closes here: the server ends the stream itself.
    expect((await h.closed).code).toBe(status.OK);
    await waitFor(() => server.activeStreams === 0);
    expect(ended).toEqual(['r-1']);
    const text = await server.metrics!.registry.metrics();
    expect(text).toContain('ext_proc_streams_active{processor="obs"} 0');
    await h.end();
  });

  it('observability mode with closeAfterLastPhase off: the stream waits for the half-close', async () => {
    const { server, address } = await start({
      processor: { name: 'obs2' },
      closeAfterLastPhase: false,
    });
    const h = connectHarness({ address });
    await h.requestHeaders(GET, { observabilityMode: true });
    await waitFor(() => server.activeStreams === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.activeStreams).toBe(1);
    expect((await h.end()).code).toBe(status.OK);
    await waitFor(() => server.activeStreams === 0);
  });

  it('exposes metrics over HTTP', async () => {
    const { server, address } = await start({ processor: tagger('m') });
    const h = connectHarness({ address });
    await h.requestHeaders(GET);
    await h.end();
    const ms = await startMetricsServer({ registry: server.metrics!.registry, host: '127.0.0.1' });
    try {
      const res = await fetch(`http://127.0.0.1:${ms.port}/metrics`);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(text).toContain(
        'ext_proc_phase_duration_seconds_count{processor="m",phase="requestHeaders"} 1',
      );
      expect(text).toContain('ext_proc_streams_active{processor="m"} 0');
      const other = await fetch(`http://127.0.0.1:${ms.port}/other`);
      expect(other.status).toBe(404);
      expect(await other.json()).toMatchObject({
        status: 404,
        details: expect.stringMatching(/^NoRoute/),
      });
    } finally {
      await ms.close();
    }
  });

  it('serves metrics on loopback by default, and a failed collection is a JSON 500 without internals', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'broken_gauge',
      help: 'fails to collect',
      registers: [registry],
      collect() {
        throw new Error('secret internal detail');
      },
    });
    const ms = await startMetricsServer({ registry });
    try {
      expect(ms.host).toBe('127.0.0.1');
      const res = await fetch(`http://127.0.0.1:${ms.port}/metrics`);
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({
        status: 500,
        details: expect.stringMatching(/^MetricsFailed/),
      });
      expect(body).not.toContain('secret internal detail');
    } finally {
      await ms.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
