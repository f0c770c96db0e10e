// The Redis store and connection against a real Redis (testkit): atomic lock under concurrency,
// complete-in-place, owner checks, expiry, binary bodies, and Redis stopped / back.
import { infraBackend, type RedisInfo, type Started } from '@edge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logging/logger';
import { RedisConnection } from '../src/redis/redis-connection';
import { RedisIdempotencyStore } from '../src/store/redis-idempotency.store';

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('RedisIdempotencyStore on a real Redis', () => {
  let redis: Started<RedisInfo>;
  let conn: RedisConnection;
  let store: RedisIdempotencyStore;

  beforeAll(async () => {
    redis = await infraBackend().redis({ name: 'idem-int-redis' });
    conn = new RedisConnection(
      { url: redis.info.url, commandTimeoutMs: 250, connectTimeoutMs: 500, reconnectMaxMs: 200 },
      silentLogger,
    );
    conn.start();
    await until('redis ready', () => conn.isUp);
    store = new RedisIdempotencyStore(conn.client);
  });
  afterAll(async () => {
    await conn?.stop();
    await redis?.stop();
  });

  const lock = (owner: string, fingerprint = 'fp', lockTtlMs = 10_000) => ({
    fingerprint,
    owner,
    lockTtlMs,
  });

  it('50 concurrent acquires of one key: exactly one wins, the rest see it in flight', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.acquire('k:concurrent', lock(`o${i}`))),
    );
    expect(results.filter((r) => r.kind === 'acquired')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in-flight')).toHaveLength(49);
  });

  it('completes in place and returns the stored response (binary body intact)', async () => {
    expect((await store.acquire('k:done', lock('me', 'fp1'))).kind).toBe('acquired');
    const body = Buffer.from([0, 255, 10, 13, 0x80, 0x7f]);
    expect(
      await store.complete(
        'k:done',
        'me',
        {
          stored: true,
          response: { status: 201, headers: [['content-type', 'application/octet-stream']], body },
        },
        60_000,
      ),
    ).toBe(true);
    const r = await store.acquire('k:done', lock('other', 'fp1'));
    expect(r).toEqual({
      kind: 'completed',
      fingerprint: 'fp1',
      response: { status: 201, headers: [['content-type', 'application/octet-stream']], body },
    });
    const ttl = await conn.client.pttl('k:done');
    expect(ttl).toBeGreaterThan(50_000);
  });

  it('only the owner completes or releases; a completed entry is never released', async () => {
    await store.acquire('k:owner', lock('me'));
    expect(await store.complete('k:owner', 'thief', { stored: false, status: 200 }, 1000)).toBe(
      false,
    );
    expect(await store.release('k:owner', 'thief')).toBe(false);
    expect(await store.complete('k:owner', 'me', { stored: false, status: 200 }, 60_000)).toBe(
      true,
    );
    expect(await store.release('k:owner', 'me')).toBe(false);
    expect(await store.acquire('k:owner', lock('x'))).toEqual({
      kind: 'completed-not-stored',
      fingerprint: 'fp',
      status: 200,
    });
    await store.acquire('k:rel', lock('me'));
    expect(await store.release('k:rel', 'me')).toBe(true);
    expect((await store.acquire('k:rel', lock('next'))).kind).toBe('acquired');
  });

  it('a lock expires after its TTL (a dead owner frees the key)', async () => {
    await store.acquire('k:ttl', lock('dead', 'fp', 100));
    await new Promise((r) => setTimeout(r, 250));
    expect((await store.acquire('k:ttl', lock('alive'))).kind).toBe('acquired');
    expect(await store.complete('k:ttl', 'dead', { stored: false, status: 200 }, 1000)).toBe(false);
  });

  it('Redis slow (CLIENT PAUSE): a call rejects at its deadline instead of hanging', async () => {
    await conn.client.call('CLIENT', 'PAUSE', '1500', 'ALL');
    const t0 = Date.now();
    await expect(store.acquire('k:slow', lock('me'))).rejects.toThrow(/timed out/i);
    expect(Date.now() - t0).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await store.acquire('k:slow2', lock('me'))).kind).toBe('acquired');
  });

  it('Redis stopped: calls fail fast (no hang); back on the same port: recovers by itself', async () => {
    const port = redis.info.port;
    await redis.stop();
    await until('connection down', () => !conn.isUp);
    const t0 = Date.now();
    await expect(store.acquire('k:down', lock('me'))).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(1000);
    redis = await infraBackend().redis({ name: 'idem-int-redis', port });
    await until('connection back', () => conn.isUp);
    expect((await store.acquire('k:down', lock('me'))).kind).toBe('acquired');
  });
});
