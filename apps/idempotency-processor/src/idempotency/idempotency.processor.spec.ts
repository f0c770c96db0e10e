import { createHarness, type MessageOptions } from '@edge/processor-core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger';
import { type IdempotencyRecorder, type Outcome } from '../metrics/idempotency.metrics';
import {
  type AcquireResult,
  type Completion,
  type IdempotencyStore,
} from '../store/idempotency.store';
import { IdempotencyProcessor, REPLAY_HEADER, WARNING_HEADER } from './idempotency.processor';

/** An in-memory store with the same contract as the Redis one (unit tests only). */
class MemoryStore implements IdempotencyStore {
  entries = new Map<string, { fp: string; owner: string; done?: Completion }>();
  down = false;
  completions = 0;
  acquire(
    key: string,
    lock: { fingerprint: string; owner: string; lockTtlMs: number },
  ): Promise<AcquireResult> {
    if (this.down) return Promise.reject(new Error('connection refused'));
    const e = this.entries.get(key);
    if (e === undefined) {
      this.entries.set(key, { fp: lock.fingerprint, owner: lock.owner });
      return Promise.resolve({ kind: 'acquired' });
    }
    if (e.done === undefined) return Promise.resolve({ kind: 'in-flight', fingerprint: e.fp });
    return Promise.resolve(
      e.done.stored
        ? { kind: 'completed', fingerprint: e.fp, response: e.done.response }
        : { kind: 'completed-not-stored', fingerprint: e.fp, status: e.done.status },
    );
  }
  complete(key: string, owner: string, c: Completion): Promise<boolean> {
    if (this.down) return Promise.reject(new Error('connection refused'));
    const e = this.entries.get(key);
    if (e === undefined || e.owner !== owner || e.done !== undefined) return Promise.resolve(false);
    e.done = c;
    this.completions++;
    return Promise.resolve(true);
  }
  release(key: string, owner: string): Promise<boolean> {
    const e = this.entries.get(key);
    if (e === undefined || e.owner !== owner || e.done !== undefined) return Promise.resolve(false);
    this.entries.delete(key);
    return Promise.resolve(true);
  }
}

class Counts implements IdempotencyRecorder {
  outcomes: Outcome[] = [];
  hits = 0;
  errors = 0;
  results: string[] = [];
  outcome(o: Outcome): void {
    this.outcomes.push(o);
  }
  hit(): void {
    this.hits++;
  }
  lockWait(): void {}
  redisError(): void {
    this.errors++;
  }
  stored(r: string): void {
    this.results.push(r);
  }
}

const route = (ns?: Record<string, unknown>): Record<string, unknown> => ({
  'xds.route_metadata': { filter_metadata: ns === undefined ? {} : { 'edge.idempotency': ns } },
});
const who = (tenant: string): MessageOptions['metadataContext'] => ({
  'edge.authn': { via: 'basic', tenant, user_id: 'u1' },
});

describe('IdempotencyProcessor', () => {
  let store: MemoryStore;
  let counts: Counts;
  let processor: IdempotencyProcessor;

  beforeEach(() => {
    store = new MemoryStore();
    counts = new Counts();
    processor = new IdempotencyProcessor(
      store,
      {
        keyPrefix: 't:',
        lockTtlMs: 60_000,
        retentionSeconds: 86_400,
        maxResponseBytes: 1000,
        retryAfterSeconds: 1,
        testStoreDelayMs: 0,
      },
      counts,
      silentLogger,
    );
  });

  const post = (
    opts: {
      key?: string | string[];
      tenant?: string;
      ns?: Record<string, unknown>;
      method?: string;
      path?: string;
      contentType?: string;
      eos?: boolean;
    } = {},
  ) => {
    const h = createHarness(processor);
    const headers: Record<string, string | string[]> = {
      ':method': opts.method ?? 'POST',
      ':path': opts.path ?? '/api/v0/orders',
      'content-type': opts.contentType ?? 'application/json',
      'x-request-id': 'req-1',
    };
    if (opts.key !== undefined) headers['idempotency-key'] = opts.key;
    const metadataContext = opts.tenant === '' ? undefined : who(opts.tenant ?? 't1');
    return {
      h,
      headers: () =>
        h.requestHeaders(headers, {
          attributes: route(opts.ns),
          endOfStream: opts.eos ?? false,
          ...(metadataContext !== undefined ? { metadataContext } : {}),
        }),
    };
  };

  /** The first execution, all the way: request, upstream answer, store. */
  async function firstExecution(body = '{"a":1}', key = '"k1"', tenant = 't1') {
    const s = post({ key, tenant });
    const rh = await s.headers();
    expect(rh.modeOverride?.requestBodyMode).toBe(2); // BUFFERED
    expect(rh.modeOverride?.responseHeaderMode).toBe(1); // SEND
    const rb = await s.h.requestBody(body);
    expect(rb.unchanged).toBe(true);
    const resH = await s.h.responseHeaders({
      ':status': '201',
      'content-type': 'application/json',
      'content-length': '11',
      'x-order': 'o-1',
      'x-envoy-upstream-service-time': '3',
      date: 'Mon, 01 Jan 2024 00:00:00 GMT',
    });
    expect(resH.headers).toEqual({ set: {}, append: {}, addIfAbsent: {}, remove: [] });
    expect(resH.modeOverride?.responseBodyMode).toBe(2); // BUFFERED: the length is known
    const resB = await s.h.responseBody('{"id":"o1"}');
    expect(resB.unchanged).toBe(true);
    return s;
  }

  it('a GET costs one header round trip: no mode override, nothing changed', async () => {
    const r = await post({ method: 'GET', key: '"k"', eos: true }).headers();
    expect(r.unchanged).toBe(true);
    expect(r.modeOverride).toBeUndefined();
  });

  it('a POST without a key on an optional route passes untouched', async () => {
    const r = await post().headers();
    expect(r.unchanged).toBe(true);
    expect(counts.outcomes).toEqual([]);
  });

  it('a missing key on a route that requires it: 400 problem+json', async () => {
    const r = await post({ ns: { required: true } }).headers();
    expect(r.immediate?.status).toBe(400);
    expect(r.immediate?.headers['content-type']).toBe('application/problem+json');
    expect(r.immediate?.json).toMatchObject({
      type: 'urn:edge:problem:idempotency:key-missing',
      status: 400,
      instance: 'urn:request:req-1',
    });
  });

  it.each([['token'], ['""'], [`"${'x'.repeat(256)}"`], ['"unterminated'], [['"a"', '"b"']]])(
    'a malformed key (%s) is a 400 problem+json',
    async (key) => {
      const r = await post({ key }).headers();
      expect(r.immediate?.status).toBe(400);
      expect(r.immediate?.json).toMatchObject({
        type: 'urn:edge:problem:idempotency:key-malformed',
      });
    },
  );

  it('without a verified identity a key is refused (never scoped by a client header)', async () => {
    const r = await post({ key: '"k"', tenant: '' }).headers();
    expect(r.immediate?.status).toBe(401);
  });

  it('route policy comes only from route metadata, never from forwarded dynamic metadata', async () => {
    // Another filter writes a permissive edge.idempotency namespace; the route requires a key.
    const h = createHarness(processor);
    const r = await h.requestHeaders(
      { ':method': 'POST', ':path': '/api/v0/orders', 'x-request-id': 'req-1' },
      {
        attributes: route({ required: true }),
        metadataContext: { ...who('t1'), 'edge.idempotency': { required: false, methods: [] } },
      },
    );
    expect(r.immediate?.status).toBe(400);
    expect(r.immediate?.json).toMatchObject({ type: 'urn:edge:problem:idempotency:key-missing' });
  });

  it('bad route metadata fails closed with 500', async () => {
    const r = await post({ key: '"k"', ns: { required: 'yes' } }).headers();
    expect(r.immediate?.status).toBe(500);
    expect(r.immediate?.json).toMatchObject({
      type: 'urn:edge:problem:idempotency:route-misconfigured',
    });
  });

  it('stores the first response, then replays it identically with the replay marker', async () => {
    await firstExecution();
    expect(store.completions).toBe(1);
    const s = post({ key: '"k1"' });
    await s.headers();
    const r = await s.h.requestBody('{"a":1}');
    expect(r.immediate?.status).toBe(201);
    expect(r.immediate?.body).toBe('{"id":"o1"}');
    expect(r.immediate?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-order': 'o-1',
      [REPLAY_HEADER]: 'true',
    });
    expect(r.immediate?.headers.date).toBeUndefined();
    expect(r.immediate?.headers['x-envoy-upstream-service-time']).toBeUndefined();
    expect(r.immediate?.headers['content-length']).toBeUndefined();
    expect(counts.outcomes).toEqual(['acquired', 'replayed']);
    expect(counts.hits).toBe(1);
  });

  it('the same key while the first is in flight: 409 with Retry-After', async () => {
    const first = post({ key: '"k1"' });
    await first.headers();
    await first.h.requestBody('{"a":1}');
    const s = post({ key: '"k1"' });
    await s.headers();
    const r = await s.h.requestBody('{"a":1}');
    expect(r.immediate?.status).toBe(409);
    expect(r.immediate?.headers['retry-after']).toBe('1');
    expect(r.immediate?.json).toMatchObject({
      type: 'urn:edge:problem:idempotency:request-in-flight',
    });
  });

  it('the same key with another payload or content type: 422', async () => {
    await firstExecution();
    for (const [body, ct] of [
      ['{"a":2}', 'application/json'],
      ['{"a":1}', 'text/plain'],
    ] as const) {
      const s = post({ key: '"k1"', contentType: ct });
      await s.headers();
      const r = await s.h.requestBody(body);
      expect(r.immediate?.status).toBe(422);
    }
  });

  it('two tenants with the same key do not collide', async () => {
    await firstExecution('{"a":1}', '"shared"', 't1');
    const s = post({ key: '"shared"', tenant: 't2' });
    await s.headers();
    expect((await s.h.requestBody('{"a":1}')).unchanged).toBe(true);
    expect(store.entries.size).toBe(2);
  });

  it('a request without a body takes the lock at the headers phase', async () => {
    const s = post({ key: '"nb"', eos: true });
    const r = await s.headers();
    expect(r.unchanged).toBe(false);
    expect(r.modeOverride?.requestBodyMode).toBe(0); // nothing to buffer
    expect(r.modeOverride?.responseHeaderMode).toBe(1);
    expect(counts.outcomes).toEqual(['acquired']);
  });

  it('a large response is delivered, not stored, and says so; a retry does not execute again', async () => {
    const s = post({ key: '"big"' });
    await s.headers();
    await s.h.requestBody('{}');
    const r = await s.h.responseHeaders({ ':status': '200', 'content-length': '5000' });
    expect(r.headers.set[WARNING_HEADER]).toBe('response-not-stored');
    const again = post({ key: '"big"' });
    await again.headers();
    const r2 = await again.h.requestBody('{}');
    expect(r2.immediate?.status).toBe(409);
    expect(r2.immediate?.json).toMatchObject({
      type: 'urn:edge:problem:idempotency:response-not-stored',
      original_status: 200,
    });
  });

  it('a body cut by Envoy (BUFFERED_PARTIAL past its limit) is not stored either', async () => {
    const s = post({ key: '"cut"' });
    await s.headers();
    await s.h.requestBody('{}');
    const rh = await s.h.responseHeaders({ ':status': '200' });
    expect(rh.modeOverride?.responseBodyMode).toBe(3); // BUFFERED_PARTIAL: length unknown
    const r = await s.h.responseBody('x'.repeat(100), { endOfStream: false });
    expect(r.headers.set[WARNING_HEADER]).toBe('response-not-stored');
    expect(counts.results).toEqual(['too_large']);
  });

  it('5xx is stored by default, released when the route says so or Envoy made it', async () => {
    const run = async (key: string, ns?: Record<string, unknown>, details = 'via_upstream') => {
      const s = post({ key, ...(ns ? { ns } : {}) });
      await s.headers();
      await s.h.requestBody('{}');
      await s.h.responseHeaders(
        { ':status': '503', 'content-length': '2' },
        { attributes: { 'response.code_details': details } },
      );
      await s.h.responseBody('{}');
    };
    await run('"a"');
    await run('"b"', { store_server_errors: false });
    await run('"c"', undefined, 'upstream_reset_before_response_started{connection_failure}');
    expect(counts.results).toEqual(['stored', 'released_5xx', 'released_5xx']);
    expect(store.entries.size).toBe(1);
  });

  it('Redis down on a route that requires the key: 503 problem+json, not executed', async () => {
    store.down = true;
    const s = post({ key: '"k"', ns: { required: true } });
    await s.headers();
    const r = await s.h.requestBody('{}');
    expect(r.immediate?.status).toBe(503);
    expect(r.immediate?.headers['retry-after']).toBe('1');
    expect(counts.errors).toBe(1);
  });

  it('Redis down on an optional route: passes with a warning header on the response', async () => {
    store.down = true;
    const s = post({ key: '"k"' });
    await s.headers();
    expect((await s.h.requestBody('{}')).unchanged).toBe(true);
    const r = await s.h.responseHeaders({ ':status': '200' });
    expect(r.headers.set[WARNING_HEADER]).toBe('store-unavailable');
    expect(counts.outcomes).toEqual(['store_unavailable_passed']);
  });

  it('Redis lost between the lock and the store: the response goes out marked not stored', async () => {
    const s = post({ key: '"k"' });
    await s.headers();
    await s.h.requestBody('{}');
    await s.h.responseHeaders({ ':status': '200', 'content-length': '2' });
    store.down = true;
    const r = await s.h.responseBody('{}');
    expect(r.headers.set[WARNING_HEADER]).toBe('response-not-stored');
    expect(counts.results).toEqual(['failed']);
  });

  it('a stream that ends after the upstream answered records the key as executed', async () => {
    const s = post({ key: '"k"' });
    await s.headers();
    await s.h.requestBody('{}');
    await s.h.responseHeaders({ ':status': '200' });
    s.h.end('cancelled');
    await new Promise((r) => setImmediate(r));
    const again = post({ key: '"k"' });
    await again.headers();
    expect((await again.h.requestBody('{}')).immediate?.status).toBe(409);
    expect(counts.results).toEqual(['interrupted']);
  });
});
