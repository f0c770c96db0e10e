import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type OpsServer, startOpsServer } from '../src/ops-server';

const servers: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(registry: Registry, logged: unknown[] = [], healthy = true) {
  const s = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    health: () => ({ code: healthy ? 200 : 503, body: { status: healthy ? 'ok' : 'down' } }),
    logger: { error: (obj) => logged.push(obj) },
  });
  servers.push(s);
  return `http://127.0.0.1:${s.port}`;
}

describe('startOpsServer (real loopback HTTP)', () => {
  it("serves the app's health report and the registry", async () => {
    const registry = new Registry();
    new Counter({ name: 'ops_test_total', help: 'x', registers: [registry] }).inc(3);
    const base = await start(registry);

    const h = await fetch(`${base}/health?probe=1`);
    expect(h.status).toBe(200);
    expect(h.headers.get('content-type')).toBe('application/json');
    expect(h.headers.get('cache-control')).toBe('no-store');
    expect(await h.json()).toEqual({ status: 'ok' });

    const m = await fetch(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toBe(registry.contentType);
    expect(await m.text()).toContain('ops_test_total 3');
  });

  it('answers 503 when the app says so', async () => {
    const base = await start(new Registry(), [], false);
    const h = await fetch(`${base}/health`);
    expect(h.status).toBe(503);
    expect(await h.json()).toEqual({ status: 'down' });
  });

  it('answers odd paths and methods with a JSON 404', async () => {
    const base = await start(new Registry());
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/health/../metrics/x'],
      ['POST', '/health'],
      ['DELETE', '/metrics'],
    ] as const) {
      const r = await fetch(`${base}${path}`, { method });
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ message: 'Not Found', status: 404, details: 'NoRoute' });
    }
  });

  it('logs a failed collection and answers a JSON 500 without the cause', async () => {
    const registry = new Registry();
    new Counter({
      name: 'ops_broken_total',
      help: 'x',
      registers: [registry],
      collect() {
        throw new Error('secret cause');
      },
    });
    const logged: unknown[] = [];
    const base = await start(registry, logged);
    const m = await fetch(`${base}/metrics`);
    expect(m.status).toBe(500);
    expect(await m.json()).toEqual({
      message: 'Internal Server Error',
      status: 500,
      details: 'MetricsFailed',
    });
    expect(logged).toEqual([{ event: 'metrics_failed', err: 'Error: secret cause' }]);
  });

  it('stops listening on close, also with a connection open', async () => {
    const registry = new Registry();
    const s = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      health: () => ({ code: 200, body: {} }),
      logger: { error: () => undefined },
    });
    const base = `http://127.0.0.1:${s.port}`;
    await fetch(`${base}/health`); // keep-alive connection stays open
    await s.close();
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });
});
