// gRPC (edge.auth.v1.KeyVerificationService, grpc.health.v1) over real connections, real Postgres.
import { authV1, health } from '@edge/protos';
import { type PostgresInfo, type Started } from '@edge/testkit';
import { type ClientReadableStream, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  call,
  grpcClient,
  healthClient,
  type KeyWithSecret,
  rootKey,
  type RunningAuth,
  sleep,
  spawnBuiltAuth,
  startAuth,
  startPostgres,
  verifyKey,
} from './helpers';

const R = authV1.VerifyKeyResult;
const E = authV1.KeyEventType;

let pg: Started<PostgresInfo>;
let auth: RunningAuth;
let root: KeyWithSecret;
let client: authV1.KeyVerificationServiceClient;

beforeAll(async () => {
  pg = await startPostgres();
  auth = await startAuth(pg.info.url);
  root = await rootKey(auth.http);
  client = grpcClient(auth.grpc);
});

afterAll(async () => {
  client?.close();
  await auth?.close();
  await pg?.stop();
});

async function child(json: unknown): Promise<KeyWithSecret> {
  const r = await call<KeyWithSecret>(`${auth.http}/keys`, {
    method: 'POST',
    headers: { authorization: basic(root.key_id, root.secret) },
    json,
  });
  expect(r.status).toBe(201);
  return r.body;
}

async function post(path: string, json?: unknown) {
  return call<KeyWithSecret>(`${auth.http}${path}`, {
    method: 'POST',
    headers: { authorization: basic(root.key_id, root.secret) },
    ...(json === undefined ? {} : { json }),
  });
}

/** Collects stream messages; resolves `next(pred)` when a matching one arrives. */
function watch(addr: string) {
  const c = grpcClient(addr);
  const stream: ClientReadableStream<authV1.WatchKeyEventsResponse> = c.watchKeyEvents({});
  const seen: { msg: authV1.WatchKeyEventsResponse; at: number }[] = [];
  const waiters: {
    pred: (m: authV1.WatchKeyEventsResponse) => boolean;
    resolve: (v: number) => void;
  }[] = [];
  stream.on('data', (msg: authV1.WatchKeyEventsResponse) => {
    const at = Date.now();
    seen.push({ msg, at });
    for (const w of [...waiters]) {
      if (w.pred(msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(at);
      }
    }
  });
  stream.on('error', () => undefined);
  return {
    seen,
    next(pred: (m: authV1.WatchKeyEventsResponse) => boolean, timeoutMs = 5000): Promise<number> {
      const hit = seen.find((s) => pred(s.msg));
      if (hit) return Promise.resolve(hit.at);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no matching event in time')), timeoutMs);
        waiters.push({ pred, resolve: (v) => (clearTimeout(t), resolve(v)) });
      });
    },
    close() {
      stream.cancel();
      c.close();
    },
  };
}

describe('VerifyKey', () => {
  it('OK with the principal and a bounded cache TTL', async () => {
    const res = await verifyKey(client, root.key_id, root.secret);
    expect(res.result).toBe(R.VERIFY_KEY_RESULT_OK);
    expect(res.principal).toEqual({
      tenant: root.tenant,
      userId: root.user_id,
      keyId: root.key_id,
      scopes: root.scopes,
      expiresAt: undefined,
    });
    expect(res.cacheTtlSeconds).toBe(auth.config.VERIFY_CACHE_TTL_SECONDS);
  });

  it('UNKNOWN_KEY, WRONG_SECRET (no principal, no caching)', async () => {
    for (const [id, secret, result] of [
      ['ak_' + 'f'.repeat(32), root.secret, R.VERIFY_KEY_RESULT_UNKNOWN_KEY],
      ['garbage', 'x', R.VERIFY_KEY_RESULT_UNKNOWN_KEY],
      ['', '', R.VERIFY_KEY_RESULT_UNKNOWN_KEY],
      [root.key_id, 'wrong', R.VERIFY_KEY_RESULT_WRONG_SECRET],
      [root.key_id, 'x'.repeat(10_000), R.VERIFY_KEY_RESULT_WRONG_SECRET],
    ] as const) {
      const res = await verifyKey(client, id, secret);
      expect(res.result).toBe(result);
      expect(res.principal).toBeUndefined();
      expect(res.cacheTtlSeconds).toBe(0);
    }
  });

  it('REVOKED', async () => {
    const k = await child({ scopes: [] });
    await post(`/keys/${k.key_id}/revoke`);
    expect((await verifyKey(client, k.key_id, k.secret)).result).toBe(R.VERIFY_KEY_RESULT_REVOKED);
  });

  it('EXPIRED, and the TTL is bounded by the expiry before that', async () => {
    const k = await child({ scopes: [], expires_in_seconds: 2 });
    const ok = await verifyKey(client, k.key_id, k.secret);
    expect(ok.result).toBe(R.VERIFY_KEY_RESULT_OK);
    expect(ok.cacheTtlSeconds).toBeLessThanOrEqual(2);
    expect(ok.principal?.expiresAt?.toISOString()).toBe(k.expires_at);
    await sleep(2100);
    expect((await verifyKey(client, k.key_id, k.secret)).result).toBe(R.VERIFY_KEY_RESULT_EXPIRED);
  });

  it('old secret during rotation grace: OK with TTL bounded by the grace', async () => {
    const k = await child({ scopes: [] });
    const r = await post(`/keys/${k.key_id}/rotate`, { grace_period_seconds: 10 });
    const old = await verifyKey(client, k.key_id, k.secret);
    expect(old.result).toBe(R.VERIFY_KEY_RESULT_OK);
    expect(old.cacheTtlSeconds).toBeGreaterThan(0);
    expect(old.cacheTtlSeconds).toBeLessThanOrEqual(10);
    const fresh = await verifyKey(client, k.key_id, r.body.secret);
    expect(fresh.cacheTtlSeconds).toBe(auth.config.VERIFY_CACHE_TTL_SECONDS);
  });
});

describe('WatchKeyEvents', () => {
  it('sends SUBSCRIBED first, then REVOKED within 1 s of an HTTP revoke, and ROTATED', async () => {
    const w = watch(auth.grpc);
    try {
      await w.next((m) => m.type === E.KEY_EVENT_TYPE_SUBSCRIBED);
      expect(w.seen[0]?.msg.type).toBe(E.KEY_EVENT_TYPE_SUBSCRIBED);
      const k = await child({ scopes: [] });
      const t0 = Date.now();
      const r = await post(`/keys/${k.key_id}/revoke`);
      expect(r.status).toBe(200);
      const at = await w.next(
        (m) => m.type === E.KEY_EVENT_TYPE_REVOKED && m.keyId === k.key_id,
        1000,
      );
      expect(at - t0).toBeLessThan(1000);
      const k2 = await child({ scopes: [] });
      await post(`/keys/${k2.key_id}/rotate`, { grace_period_seconds: 0 });
      await w.next((m) => m.type === E.KEY_EVENT_TYPE_ROTATED && m.keyId === k2.key_id, 1000);
      const ev = w.seen.find((s) => s.msg.keyId === k.key_id)!.msg;
      expect(ev.at).toBeInstanceOf(Date);
    } finally {
      w.close();
    }
  });

  it('announces a revoke made on another replica (LISTEN/NOTIFY across processes)', async () => {
    const replica = await spawnBuiltAuth(pg.info.url);
    const here = watch(auth.grpc);
    const there = watch(replica.grpc);
    try {
      await here.next((m) => m.type === E.KEY_EVENT_TYPE_SUBSCRIBED);
      await there.next((m) => m.type === E.KEY_EVENT_TYPE_SUBSCRIBED);
      const k = await child({ scopes: [] });
      // revoke through the other replica's HTTP API
      const t0 = Date.now();
      const r = await call(`${replica.http}/keys/${k.key_id}/revoke`, {
        method: 'POST',
        headers: { authorization: basic(root.key_id, root.secret) },
      });
      expect(r.status).toBe(200);
      const isRevoke = (m: authV1.WatchKeyEventsResponse) =>
        m.type === E.KEY_EVENT_TYPE_REVOKED && m.keyId === k.key_id;
      const [a, b] = await Promise.all([here.next(isRevoke, 1000), there.next(isRevoke, 1000)]);
      expect(Math.max(a, b) - t0).toBeLessThan(1000);
      // and the other replica verifies keys from the same database
      const c = grpcClient(replica.grpc);
      expect((await verifyKey(c, k.key_id, k.secret)).result).toBe(R.VERIFY_KEY_RESULT_REVOKED);
      c.close();
    } finally {
      here.close();
      there.close();
      await replica.stop();
    }
  });
});

describe('ListRevokedKeys', () => {
  const list = (withinSeconds: number) =>
    new Promise<authV1.ListRevokedKeysResponse>((resolve, reject) =>
      client.listRevokedKeys({ withinSeconds }, (err, res) =>
        err === null ? resolve(res) : reject(err),
      ),
    );

  it("lists revocations and rotations (with the rotation's cut-off) within the window", async () => {
    const revoked = await child({ scopes: [] });
    const rotated = await child({ scopes: [] });
    expect((await post(`/keys/${revoked.key_id}/revoke`)).status).toBe(200);
    const t0 = Date.now();
    expect((await post(`/keys/${rotated.key_id}/rotate`, { grace_period_seconds: 0 })).status).toBe(
      200,
    );
    const t1 = Date.now();
    const before = await list(600);
    expect(before.keys.map((k) => k.keyId)).toContain(revoked.key_id);
    expect(before.keys.map((k) => k.keyId)).not.toContain(rotated.key_id);
    const rot = before.rotated.find((r) => r.keyId === rotated.key_id);
    // The next whole second after the rotation: what the rotation stored as tokens_not_before.
    const cut = rot?.tokensNotBefore?.getTime() ?? 0;
    expect(cut % 1000).toBe(0);
    expect(cut).toBeGreaterThan(t0 - 1000);
    expect(cut).toBeLessThanOrEqual(t1 + 1000);
    expect(before.rotated.map((r) => r.keyId)).not.toContain(revoked.key_id);
    expect(before.sequence).toBeGreaterThanOrEqual(2);
    // A second rotation moves the cut-off, one entry per key; the sequence moves on.
    await sleep(1100);
    await post(`/keys/${rotated.key_id}/rotate`, { grace_period_seconds: 0 });
    const after = await list(600);
    const again = after.rotated.filter((r) => r.keyId === rotated.key_id);
    expect(again).toHaveLength(1);
    expect(again[0]!.tokensNotBefore!.getTime()).toBeGreaterThan(cut);
    expect(after.sequence).toBeGreaterThan(before.sequence);
  });
});

describe('grpc.health.v1', () => {
  it('reports SERVING for the server and the auth service, NOT_FOUND for others', async () => {
    const h = healthClient(auth.grpc);
    const check = (service: string) =>
      new Promise<health.HealthCheckResponse>((resolve, reject) =>
        h.check({ service }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    expect((await check('')).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    expect((await check('edge.auth.v1.KeyVerificationService')).status).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
    await expect(check('nope')).rejects.toMatchObject({ code: status.NOT_FOUND });
    h.close();
  });
});
