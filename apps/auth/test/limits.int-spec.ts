// Failed or abusive calls cost something bounded (issue 6, finding 4): per-client rate limits on
// the HTTP API, a per-tenant key quota, and paged key listings. Real Postgres, real HTTP.
import { type PostgresInfo, type Started } from '@edge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  call,
  grpcClient,
  type KeyWithSecret,
  rootKey,
  type RunningAuth,
  startAuth,
  startPostgres,
  verifyKey,
} from './helpers';

let pg: Started<PostgresInfo>;

beforeAll(async () => {
  pg = await startPostgres();
});

afterAll(async () => {
  await pg?.stop();
});

const as = (k: { key_id: string; secret: string }) => ({
  authorization: basic(k.key_id, k.secret),
});

describe('rate limits (@nestjs/throttler, per client)', () => {
  let auth: RunningAuth;
  beforeAll(async () => {
    auth = await startAuth(pg.info.url, {
      THROTTLE_LIMIT: '5',
      THROTTLE_CREDENTIAL_LIMIT: '3',
      THROTTLE_TTL_SECONDS: '60',
    });
  });
  afterAll(async () => {
    await auth?.close();
  });

  it('credential routes: the 4th create-root-key in a minute is a 429 JSON with Retry-After', async () => {
    const keys: KeyWithSecret[] = [];
    for (let i = 0; i < 3; i++) keys.push(await rootKey(auth.http));
    const r = await call(`${auth.http}/create-root-key`);
    expect(r.status).toBe(429);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.body).toMatchObject({
      message: 'Too Many Requests',
      status: 429,
      details: expect.stringMatching(/^RateLimited /),
    });
    expect(Object.keys(r.body).sort()).toEqual(['details', 'message', 'status']);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(JSON.stringify(r.body)).not.toMatch(/secret/i);

    // Other routes have their own budget; the gRPC API (the gateway's) is never throttled.
    const k = keys[0]!;
    for (let i = 0; i < 5; i++) {
      expect((await call(`${auth.http}/keys`, { headers: as(k) })).status).toBe(200);
    }
    const sixth = await call(`${auth.http}/keys`, { headers: as(k) });
    expect(sixth.status).toBe(429);
    expect(sixth.body).toMatchObject({
      status: 429,
      details: expect.stringMatching(/^RateLimited/),
    });
    const client = grpcClient(auth.grpc);
    try {
      for (let i = 0; i < 10; i++) {
        expect((await verifyKey(client, k.key_id, k.secret)).principal?.keyId).toBe(k.key_id);
      }
    } finally {
      client.close();
    }
  });

  it('health and the JWKS (what gateways and probes fetch) are never throttled', async () => {
    for (let i = 0; i < 12; i++) {
      expect((await call(`${auth.http}/health`)).status).toBe(200);
      expect((await call(`${auth.http}/.well-known/jwks.json`)).status).toBe(200);
    }
  });
});

describe('per-tenant key quota', () => {
  let auth: RunningAuth;
  beforeAll(async () => {
    auth = await startAuth(pg.info.url, { MAX_KEYS_PER_TENANT: '3' });
  });
  afterAll(async () => {
    await auth?.close();
  });

  const create = (parent: KeyWithSecret) =>
    call<KeyWithSecret>(`${auth.http}/keys`, {
      method: 'POST',
      headers: as(parent),
      json: { scopes: [] },
    });

  it('a 4th active key is a 409 JSON; other tenants are unaffected; revoking frees a slot', async () => {
    const root = await rootKey(auth.http);
    const a = await create(root);
    const b = await create(root);
    expect([a.status, b.status]).toEqual([201, 201]);
    const over = await create(root);
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({
      message: 'Conflict',
      status: 409,
      details: expect.stringMatching(/^KeyQuotaExceeded /),
    });
    // Concurrent attempts cannot race past the quota.
    const burst = await Promise.all(Array.from({ length: 8 }, () => create(root)));
    expect(burst.every((r) => r.status === 409)).toBe(true);

    const other = await rootKey(auth.http);
    expect((await create(other)).status).toBe(201);

    await call(`${auth.http}/keys/${a.body.key_id}/revoke`, { method: 'POST', headers: as(root) });
    expect((await create(root)).status).toBe(201);
    expect((await create(root)).status).toBe(409);
  });

  it('concurrent creations on a fresh tenant stop exactly at the quota', async () => {
    const root = await rootKey(auth.http);
    const burst = await Promise.all(Array.from({ length: 10 }, () => create(root)));
    expect(burst.filter((r) => r.status === 201)).toHaveLength(2);
    expect(burst.filter((r) => r.status === 409)).toHaveLength(8);
  });
});

describe('GET /keys pages', () => {
  let auth: RunningAuth;
  let root: KeyWithSecret;
  const all: string[] = [];
  beforeAll(async () => {
    auth = await startAuth(pg.info.url, { KEYS_PAGE_DEFAULT: '4', KEYS_PAGE_MAX: '5' });
    root = await rootKey(auth.http);
    all.push(root.key_id);
    for (let i = 0; i < 10; i++) {
      const r = await call<KeyWithSecret>(`${auth.http}/keys`, {
        method: 'POST',
        headers: as(root),
        json: { scopes: [] },
      });
      expect(r.status).toBe(201);
      all.push(r.body.key_id);
    }
  });
  afterAll(async () => {
    await auth?.close();
  });

  type Page = { keys: KeyWithSecret[]; next_cursor: string | null };
  const page = (query: string, key: KeyWithSecret = root) =>
    call<Page>(`${auth.http}/keys${query}`, { headers: as(key) });

  it('walks every key once, in creation order, with an opaque cursor; default page size applies', async () => {
    const first = await page('');
    expect(first.status).toBe(200);
    expect(first.body.keys).toHaveLength(4);
    const seen: KeyWithSecret[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; body: Page } = await page(
        `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(r.status).toBe(200);
      expect(r.body.keys.length).toBeLessThanOrEqual(3);
      seen.push(...r.body.keys);
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4); // 11 keys: 3 + 3 + 3 + 2
    const ids = seen.map((k) => k.key_id);
    expect([...ids].sort()).toEqual([...all].sort()); // each key exactly once
    const order = seen.map((k) => `${k.created_at!}|${k.key_id}`);
    expect(order).toEqual([...order].sort()); // (created_at, key_id) order
    // Stable: the same walk gives the same first page.
    expect((await page('?limit=3')).body.keys.map((k) => k.key_id)).toEqual(ids.slice(0, 3));
  });

  it('bad paging input: 400 JSON', async () => {
    for (const q of [
      '?limit=0',
      '?limit=6',
      '?limit=abc',
      '?limit=-1',
      '?cursor=not-a-cursor',
      `?cursor=${Buffer.from('{"t":"2030-01-01T00:00:00.000Z","k":"x"}').toString('base64url')}`,
      `?cursor=${'A'.repeat(600)}`,
      '?offset=3',
    ]) {
      const r = await page(q);
      expect(r.status, q).toBe(400);
      expect(r.body, q).toMatchObject({ status: 400 });
      expect(Object.keys(r.body).sort(), q).toEqual(['details', 'message', 'status']);
    }
    const bad = await page('?cursor=not-a-cursor');
    expect(bad.body).toMatchObject({ details: expect.stringMatching(/^InvalidCursor/) });
  });

  it("another tenant's cursor only ever pages through the caller's own keys", async () => {
    const cursor = (await page('?limit=2')).body.next_cursor!;
    const other = await rootKey(auth.http);
    const r = await page(`?cursor=${encodeURIComponent(cursor)}`, other);
    expect(r.status).toBe(200);
    expect(r.body.keys.every((k) => k.tenant === other.tenant)).toBe(true);
  });
});
