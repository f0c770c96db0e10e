// The sidecar with the Wasm header filter in the real Envoy (V8): every case of the issue, with
// a 2 s header_cache_expiry and a 500 ms fetch timeout so expiry-driven behaviour is quick.
import { freePort } from '@edge/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  eventually,
  Provider,
  type ProviderAnswer,
  type Sidecar,
  startHeaderEcho,
  startSidecar,
} from './sidecar-stack';

const EXPIRY_MS = 2_000;
const TIMEOUT_MS = 500;

let app: Awaited<ReturnType<typeof startHeaderEcho>>;
const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  app = await startHeaderEcho();
});
afterAll(() => app.stop());
afterEach(async () => {
  for (const part of running.splice(0)) await part.stop();
});

async function provider(start = true): Promise<Provider> {
  const p = new Provider(await freePort());
  if (start) await p.start();
  running.push(p);
  return p;
}

async function sidecar(p: Provider, filter = {}, concurrency = 2): Promise<Sidecar> {
  const s = await startSidecar({ appPort: app.port, providerPort: p.port, filter, concurrency });
  running.unshift(s);
  return s;
}

async function seen(url: string, name: string, value: string | undefined): Promise<void> {
  await eventually(
    async () => (await call(url)).received[name] === value,
    15_000,
    `${name}=${value}`,
  );
}

/** Samples a header every 100 ms until `done` says stop; returns (time, value) pairs. */
async function sample(
  url: string,
  name: string,
  done: (value: string | undefined) => boolean,
  timeoutMs = 15_000,
): Promise<{ t: number; value: string | undefined }[]> {
  const out: { t: number; value: string | undefined }[] = [];
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const res = await call(url);
    expect(res.status, res.body).toBe(200);
    const value = res.received[name] as string | undefined;
    out.push({ t: Date.now(), value });
    if (done(value)) return out;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sampling ${name}: never done; last ${JSON.stringify(out.at(-1))}`);
}

describe('sidecar with the Wasm header filter', () => {
  it('adds the provided headers, replacing a value the workload sent; fetches GET /headers from the cluster', async () => {
    const p = await provider();
    p.json({ 'x-workload-token': 'token-1', 'X-Env': 'test' });
    const s = await sidecar(p);
    await seen(s.url, 'x-env', 'test');
    const res = await call(s.url, { 'x-workload-token': 'forged-by-workload', 'x-other': 'kept' });
    expect(res.status).toBe(200);
    expect(res.received['x-workload-token']).toBe('token-1');
    expect(res.received['x-other']).toBe('kept');
    expect(p.lastRequest).toEqual({ path: '/headers', host: 'header-provider', method: 'GET' });
  });

  it('shows a change of the provided headers after the expiry, not before', async () => {
    const p = await provider();
    const callTimes: number[] = [];
    const count = () => callTimes.push(Date.now());
    p.json({ 'x-env': 'v1' });
    const s = await sidecar(p);
    await seen(s.url, 'x-env', 'v1');
    // The last fetch that returned v1; the next one is due EXPIRY_MS later.
    const before = p.calls;
    await eventually(() => p.calls > before, 10_000, 'a renewal');
    count();
    p.json({ 'x-env': 'v2' });
    const samples = await sample(s.url, 'x-env', (v) => v === 'v2');
    const lastV1Fetch = callTimes[0]!;
    const firstV2 = samples.find((x) => x.value === 'v2')!.t;
    // Every sample before the expiry still has v1 (100 ms slack for the clocks of two processes).
    for (const x of samples.filter((x) => x.t < lastV1Fetch + EXPIRY_MS - 100)) {
      expect(x.value).toBe('v1');
    }
    expect(firstV2 - lastV1Fetch).toBeGreaterThanOrEqual(EXPIRY_MS - 100);
    expect(samples.every((x) => x.value === 'v1' || x.value === 'v2')).toBe(true);
  });

  it('provider down at start: requests pass unchanged, then get the headers once it is up', async () => {
    const p = await provider(false);
    p.json({ 'x-env': 'late' });
    const s = await sidecar(p);
    for (let i = 0; i < 5; i++) {
      const res = await call(s.url, { 'x-env': 'own' });
      expect(res.status).toBe(200);
      expect(res.received['x-env']).toBe('own');
    }
    await p.start();
    await seen(s.url, 'x-env', 'late');
  });

  it('skips invalid header names and values from the provider, keeps the valid ones', async () => {
    const p = await provider();
    p.answer = {
      status: 200,
      body: '{"x-good":"1","bad name":"2","x-ctl":"a\\u0001b","x-crlf":"a\\r\\nx-injected: 1","x-num":3,"host":"evil.example","x-lead":" v"}',
    };
    const s = await sidecar(p);
    await seen(s.url, 'x-good', '1');
    const received = (await call(s.url)).received;
    for (const name of ['bad name', 'x-ctl', 'x-crlf', 'x-injected', 'x-num', 'x-lead']) {
      expect(received[name], name).toBeUndefined();
    }
    expect(received.host).not.toBe('evil.example');
  });

  it('before the first fetch, fail_closed answers a JSON 503; then the headers flow', async () => {
    const p = await provider(false);
    p.json({ 'x-env': 'ok' });
    const s = await sidecar(p, { fail_closed: true });
    const res = await call(s.url);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({
      message: 'Service Unavailable',
      status: 503,
      details: 'HeadersUnavailable No headers from the header provider yet',
    });
    await p.start();
    await seen(s.url, 'x-env', 'ok');
  });

  it('refuses a bad configuration with a clear log line (Envoy does not start; no crash)', async () => {
    const p = await provider();
    const err = await sidecar(p, { header_cache_expiry: 'soon' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(
      'header-filter: invalid configuration: header_cache_expiry must be a duration',
    );
    expect((err as Error).message).toContain('Unable to create Wasm plugin header_filter');
    expect((err as Error).message).not.toMatch(/Caught Segmentation fault|backtrace/i);
  });

  it('survives a VM failure (failure_policy FAIL_RELOAD): the failed request is a JSON 503, the next ones get the headers', async () => {
    const p = await provider();
    p.json({ 'x-env': 'before-trap' });
    const s = await sidecar(p, { debug_trap_on_header: 'x-test-trap' }, 1);
    await seen(s.url, 'x-env', 'before-trap');
    const trapped = await call(s.url, { 'x-test-trap': '1' });
    expect(trapped.status).toBe(503);
    // A public code only: the VM failure itself (wasm_fail_stream) stays in the access log.
    expect(JSON.parse(trapped.body)).toEqual({
      message: 'Service Unavailable',
      status: 503,
      details: 'ServiceUnavailable The service is unavailable',
    });
    // Envoy lives on and a fresh VM serves the cached headers (shared data outlives the VM).
    await seen(s.url, 'x-env', 'before-trap');
    const ready = await fetch(`http://127.0.0.1:${s.info.adminPort}/ready`);
    expect(await ready.text()).toContain('LIVE');
    // And it can fail again and recover again.
    expect((await call(s.url, { 'x-test-trap': '1' })).status).toBe(503);
    await seen(s.url, 'x-env', 'before-trap');
  });

  it('does not call the provider per request: a load run makes about one call per expiry', async () => {
    const p = await provider();
    p.json({ 'x-env': 'load' });
    const s = await sidecar(p);
    await seen(s.url, 'x-env', 'load');
    const callsBefore = p.calls;
    const t0 = Date.now();
    let requests = 0;
    let withHeader = 0;
    const worker = async () => {
      while (Date.now() - t0 < 5_000) {
        const res = await call(s.url);
        requests += 1;
        if (res.received['x-env'] === 'load') withHeader += 1;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const seconds = (Date.now() - t0) / 1000;
    const providerCalls = p.calls - callsBefore;
    console.log(
      `load: ${requests} requests in ${seconds.toFixed(1)} s, ${providerCalls} provider calls`,
    );
    expect(requests).toBeGreaterThan(200);
    expect(withHeader).toBe(requests);
    // One renewal per 2 s expiry (shared by both workers), plus slack for a loaded machine.
    expect(providerCalls).toBeLessThanOrEqual(Math.ceil((seconds * 1000) / EXPIRY_MS) + 2);
  });
});

describe('two plugins of the filter in one VM (same vm_id, two listeners)', () => {
  async function pair(secondName: string): Promise<{ p: Provider; s: Sidecar }> {
    const p = await provider();
    p.byPath.set('/headers', { status: 200, body: '{"x-plugin":"first"}' });
    p.byPath.set('/second', { status: 200, body: '{"x-plugin":"second"}' });
    const s = await startSidecar({
      appPort: app.port,
      providerPort: p.port,
      second: { name: secondName, filter: { header_providing_service_path: '/second' } },
    });
    running.unshift(s);
    return { p, s };
  }

  it("each listener's requests get their own plugin's headers", async () => {
    const { s } = await pair('header_filter_second');
    await seen(s.url, 'x-plugin', 'first');
    await seen(s.secondUrl!, 'x-plugin', 'second');
    for (let i = 0; i < 20; i++) {
      expect((await call(s.url)).received['x-plugin']).toBe('first');
      expect((await call(s.secondUrl!)).received['x-plugin']).toBe('second');
    }
  });
});

describe.each<[string, ProviderAnswer]>([
  ['a 500', { status: 500, body: '{"x-env":"from-500"}' }],
  ['broken JSON', { status: 200, body: '{"x-env": "broken"' }],
  ['a JSON array', { status: 200, body: '[{"x-env":"array"}]' }],
  ['a JSON string', { status: 200, body: '"x-env"' }],
  ['slower than the call timeout', { status: 200, body: '{"x-env":"slow"}', delayMs: 1_500 }],
])('provider answering %s', (_name, bad) => {
  it('keeps the last good headers until they expire, then stops adding them; recovers', async () => {
    const p = await provider();
    p.json({ 'x-env': 'good' });
    const s = await sidecar(p);
    await seen(s.url, 'x-env', 'good');
    const before = p.calls;
    await eventually(() => p.calls > before, 10_000, 'a renewal');
    const lastGood = Date.now();
    p.answer = bad;
    const samples = await sample(s.url, 'x-env', (v) => v === undefined);
    for (const x of samples.filter((x) => x.t < lastGood + EXPIRY_MS - 100)) {
      expect(x.value).toBe('good');
    }
    const dropped = samples.at(-1)!.t - lastGood;
    // Valid for the expiry plus one fetch timeout (the renewal window), then dropped.
    expect(dropped).toBeGreaterThanOrEqual(EXPIRY_MS + TIMEOUT_MS - 150);
    expect(samples.some((x) => x.value !== 'good' && x.value !== undefined)).toBe(false);
    p.json({ 'x-env': 'recovered' });
    await seen(s.url, 'x-env', 'recovered');
  });
});
