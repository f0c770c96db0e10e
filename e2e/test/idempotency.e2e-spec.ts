// Idempotency-Key through the real front proxy (authn → idempotency → echo) with real Redis.
// The stack runs the processor with its store-delay test hook (1 s between the upstream's answer
// and the store), so "in flight" is a window a test can hit for sure.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import { basic, createRootKey, type EchoBody, type RootKey } from './support';

const STORE_DELAY_MS = 1000;
const MAX_STORED = 16 * 1024;

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

describe('Idempotency-Key through the front proxy', () => {
  let stack: FrontProxyStack;
  let a: RootKey;
  let b: RootKey;

  beforeAll(async () => {
    stack = await startFrontProxyStack({
      idempotencyEnv: {
        IDEMPOTENCY_TEST_STORE_DELAY_MS: String(STORE_DELAY_MS),
        IDEMPOTENCY_MAX_RESPONSE_BYTES: String(MAX_STORED),
      },
    });
    a = await createRootKey(stack.authUrl);
    b = await createRootKey(stack.authUrl);
    expect(a.tenant).not.toBe(b.tenant);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const auth = (k: RootKey): string => basic(k.key_id, k.secret);
  const fresh = (prefix = '/api/v0/orders'): string => `${prefix}/${randomUUID()}`;

  function post(
    path: string,
    opts: {
      key?: string;
      body?: string;
      who?: RootKey;
      type?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: auth(opts.who ?? a),
      'content-type': opts.type ?? 'application/json',
      ...opts.headers,
    };
    if (opts.key !== undefined) headers['idempotency-key'] = opts.key;
    return fetch(stack.proxyUrl + path, {
      method: 'POST',
      headers,
      body: opts.body ?? '{"amount":100}',
    });
  }

  /** How many requests echo (the upstream) answered for this path. */
  async function upstreamCount(path: string): Promise<number> {
    const res = await fetch(
      `http://127.0.0.1:${stack.ports.echo}/_echo/requests?path=${encodeURIComponent(path)}`,
    );
    return ((await res.json()) as { count: number }).count;
  }

  async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async function expectProblem(res: Response, status: number, type: string): Promise<Problem> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const p = (await res.json()) as Problem;
    expect(p.type).toBe(`urn:edge:problem:idempotency:${type}`);
    expect(p.status).toBe(status);
    expect(p.title.length).toBeGreaterThan(0);
    return p;
  }

  /**
   * Response headers a replay must repeat: all but what is fresh per response (date, the replay
   * marker, connection handling) and Envoy's own timing header (Envoy does not let an ext_proc
   * set x-envoy-* headers; it describes that upstream call, not the response).
   */
  const comparable = (res: Response): Record<string, string> => {
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (['date', 'idempotent-replayed', 'connection', 'keep-alive'].includes(k)) return;
      if (k.startsWith('x-envoy-')) return;
      out[k] = v;
    });
    return out;
  };

  const key = (): string => `"${randomUUID()}"`;

  async function ownMessagesPerRequest(send: () => Promise<Response>): Promise<number> {
    const stat = async (): Promise<number> => {
      const text = await (
        await fetch(
          `${stack.envoyAdminUrl}/stats?filter=^http\\.front\\.ext_proc\\.idempotency\\.stream_msgs_sent$`,
        )
      ).text();
      return Number(/: (\d+)/.exec(text)?.[1] ?? NaN);
    };
    const before = await stat();
    const res = await send();
    await res.arrayBuffer();
    return (await stat()) - before;
  }

  it('a GET costs the idempotency processor one message (request headers only)', async () => {
    const n = await ownMessagesPerRequest(() =>
      fetch(`${stack.proxyUrl}/api/v0/echo`, { headers: { authorization: auth(a) } }),
    );
    expect(n).toBe(1);
  });

  it('a keyed POST replays the identical status, headers and body; the upstream saw it once', async () => {
    const path = fresh();
    const k = key();
    const first = await post(path, { key: k });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = await first.text();
    expect((JSON.parse(firstBody) as EchoBody).headers['x-tenant-id']).toBe(a.tenant);

    const again = await post(path, { key: k });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(firstBody);
    expect(comparable(again)).toEqual(comparable(first));
    expect(await upstreamCount(path)).toBe(1);
  });

  it('20 concurrent duplicates: exactly one reaches the upstream, the rest get 409 + Retry-After', async () => {
    const path = fresh();
    const k = key();
    const all = await Promise.all(Array.from({ length: 20 }, () => post(path, { key: k })));
    const statuses = all.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    for (const r of all.filter((x) => x.status === 409)) {
      expect(r.headers.get('retry-after')).toBe('1');
      await expectProblem(r, 409, 'request-in-flight');
    }
    expect(await upstreamCount(path)).toBe(1);
  });

  it('a retry between the upstream answer and the store gets 409, never a second execution', async () => {
    const path = fresh();
    const k = key();
    const first = post(path, { key: k });
    // The upstream has answered; the processor now holds the response for STORE_DELAY_MS.
    await until('the upstream to answer', async () => (await upstreamCount(path)) === 1);
    const retry = await post(path, { key: k });
    await expectProblem(retry, 409, 'request-in-flight');
    const done = await first;
    expect(done.status).toBe(200);
    expect(done.headers.get('idempotency-warning')).toBeNull();
    await done.text();
    const replay = await post(path, { key: k });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await upstreamCount(path)).toBe(1);
  });

  it('the same key with a different payload or content type: 422 problem+json', async () => {
    const path = fresh();
    const k = key();
    await (await post(path, { key: k, body: '{"amount":100}' })).text();
    await expectProblem(
      await post(path, { key: k, body: '{"amount":999}' }),
      422,
      'payload-mismatch',
    );
    await expectProblem(
      await post(path, { key: k, body: '{"amount":100}', type: 'text/plain' }),
      422,
      'payload-mismatch',
    );
    expect(await upstreamCount(path)).toBe(1);
  });

  it('two tenants using the same key do not collide (a spoofed tenant header changes nothing)', async () => {
    const path = fresh();
    const k = key();
    const ra = await post(path, { key: k, who: a });
    const rb = await post(path, { key: k, who: b, headers: { 'x-tenant-id': a.tenant } });
    expect(ra.status).toBe(200);
    expect(rb.status).toBe(200);
    expect(rb.headers.get('idempotent-replayed')).toBeNull();
    expect(((await rb.json()) as EchoBody).headers['x-tenant-id']).toBe(b.tenant);
    await ra.text();
    expect(await upstreamCount(path)).toBe(2);
    const replayB = await post(path, { key: k, who: b });
    expect(replayB.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replayB.json()) as EchoBody).headers['x-tenant-id']).toBe(b.tenant);
  });

  it('a missing or malformed key on a route that requires one: 400 problem+json, not executed', async () => {
    const path = fresh();
    await expectProblem(await post(path), 400, 'key-missing');
    for (const bad of ['not-a-string', '""', `"${'x'.repeat(256)}"`, '"unterminated']) {
      await expectProblem(await post(path, { key: bad }), 400, 'key-malformed');
    }
    expect(await upstreamCount(path)).toBe(0);
    // A GET on the same route needs no key.
    const get = await fetch(stack.proxyUrl + path, { headers: { authorization: auth(a) } });
    expect(get.status).toBe(200);
  });

  it('a POST without a key on an optional route passes as before', async () => {
    const path = fresh('/api/v0/echo');
    expect((await post(path)).status).toBe(200);
    expect((await post(path)).status).toBe(200);
    expect(await upstreamCount(path)).toBe(2);
  });

  it('a large response is delivered, not stored, and says so; a retry is not executed again', async () => {
    const path = fresh('/api/v0/echo');
    const k = key();
    const big = JSON.stringify({ blob: 'x'.repeat(MAX_STORED + 1024) });
    const first = await post(path, { key: k, body: big });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotency-warning')).toBe('response-not-stored');
    expect(((await first.json()) as EchoBody).body).toBe(big);
    const p = await expectProblem(
      await post(path, { key: k, body: big }),
      409,
      'response-not-stored',
    );
    expect(p.detail).toMatch(/200/);
    expect(await upstreamCount(path)).toBe(1);
  });

  it('Redis stopped: fail closed on required routes, pass through with a warning otherwise; recovers', async () => {
    const health = async (): Promise<number> =>
      (await fetch(`http://127.0.0.1:${stack.ports.idempotencyOps}/health`)).status;
    expect(await health()).toBe(200);
    await stack.stopPart('redis');
    try {
      await until('health to report Redis down', async () => (await health()) === 503);

      const required = fresh();
      const t0 = Date.now();
      const closed = await post(required, { key: key() });
      await expectProblem(closed, 503, 'store-unavailable');
      expect(closed.headers.get('retry-after')).toBe('1');
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(await upstreamCount(required)).toBe(0);

      const optional = fresh('/api/v0/echo');
      const passed = await post(optional, { key: key() });
      expect(passed.status).toBe(200);
      expect(passed.headers.get('idempotency-warning')).toBe('store-unavailable');
      expect(await upstreamCount(optional)).toBe(1);

      const get = await fetch(`${stack.proxyUrl}/api/v0/echo`, {
        headers: { authorization: auth(a) },
      });
      expect(get.status).toBe(200);
    } finally {
      await stack.startPart('redis');
    }
    await until('health to report Redis up', async () => (await health()) === 200);
    const path = fresh();
    const k = key();
    expect((await post(path, { key: k })).status).toBe(200);
    expect((await post(path, { key: k })).headers.get('idempotent-replayed')).toBe('true');
    expect(await upstreamCount(path)).toBe(1);
  });

  it('exposes its counters on /metrics', async () => {
    const text = await (
      await fetch(`http://127.0.0.1:${stack.ports.idempotencyOps}/metrics`)
    ).text();
    for (const outcome of ['acquired', 'replayed', 'conflict', 'mismatch', 'missing_key']) {
      expect(text).toMatch(
        new RegExp(`idempotency_requests_total\\{outcome="${outcome}"\\} [1-9]`),
      );
    }
    expect(text).toMatch(/idempotency_redis_errors_total\{op="acquire"\} [1-9]/);
    expect(text).toMatch(/idempotency_hits_total [1-9]/);
    expect(text).toMatch(/idempotency_lock_wait_seconds_count [1-9]/);
    expect(text).toMatch(/idempotency_redis_up 1/);
  });
});
