// Who may manage which key (issue 6, finding 1), through the HTTP API on a real Postgres: a key
// manages only itself and the keys below it, nothing it does hands out more scopes or a longer
// life than it has, revoking cascades, and a rotation ends the tokens issued before it.
import { authV1 } from '@edge/protos';
import { type PostgresInfo, type Started } from '@edge/testkit';
import { type ClientReadableStream } from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  call,
  grpcClient,
  type KeyWithSecret,
  rootKey,
  type RunningAuth,
  sleep,
  startAuth,
  startPostgres,
} from './helpers';

let pg: Started<PostgresInfo>;
let auth: RunningAuth;

beforeAll(async () => {
  pg = await startPostgres();
  auth = await startAuth(pg.info.url);
});

afterAll(async () => {
  await auth?.close();
  await pg?.stop();
});

type Cred = { key_id: string; secret: string } | { token: string };
const authz = (c: Cred) => ('token' in c ? `Bearer ${c.token}` : basic(c.key_id, c.secret));
const RW = [
  { resource: 'keys', action: 'read' },
  { resource: 'keys', action: 'write' },
];

async function create(parent: Cred, json: unknown) {
  return call<KeyWithSecret>(`${auth.http}/keys`, {
    method: 'POST',
    headers: { authorization: authz(parent) },
    json,
  });
}

async function mustCreate(parent: Cred, json: unknown = { scopes: RW }): Promise<KeyWithSecret> {
  const r = await create(parent, json);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const rotate = (by: Cred, keyId: string, grace = 0) =>
  call<KeyWithSecret>(`${auth.http}/keys/${keyId}/rotate`, {
    method: 'POST',
    headers: { authorization: authz(by) },
    json: { grace_period_seconds: grace },
  });

const revoke = (by: Cred, keyId: string) =>
  call<KeyWithSecret>(`${auth.http}/keys/${keyId}/revoke`, {
    method: 'POST',
    headers: { authorization: authz(by) },
  });

const list = (by: Cred, query = '') =>
  call<{ keys: KeyWithSecret[]; next_cursor: string | null; details?: unknown }>(
    `${auth.http}/keys${query}`,
    {
      headers: { authorization: authz(by) },
    },
  );

async function token(k: { key_id: string; secret: string }): Promise<string> {
  const r = await call<{ access_token: string }>(`${auth.http}/token`, {
    method: 'POST',
    headers: { authorization: basic(k.key_id, k.secret) },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.access_token;
}

/** Root, a child with keys:read + keys:write, and a sibling of that child. */
async function family() {
  const root = await rootKey(auth.http);
  const child = await mustCreate(root);
  const sibling = await mustCreate(root);
  return { root, child, sibling };
}

/** The root still does everything it could before. */
async function expectRootIntact(root: KeyWithSecret) {
  const l = await list(root);
  expect(l.status).toBe(200);
  expect(l.body.keys.find((k) => k.key_id === root.key_id)?.status).toBe('active');
  expect(await token(root)).toEqual(expect.any(String));
  expect((await create(root, { scopes: [] })).status).toBe(201);
}

function expectNoSecret(body: unknown, ...secrets: string[]) {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/"secret"/);
  for (const s of secrets) expect(text).not.toContain(s);
}

describe('a key manages only itself and the keys below it', () => {
  it('a child with keys:write cannot rotate or revoke its root or a sibling (404 JSON, no secret)', async () => {
    const { root, child, sibling } = await family();
    for (const target of [root, sibling]) {
      for (const grace of [0, 60]) {
        const r = await rotate(child, target.key_id, grace);
        expect(r.status).toBe(404);
        expect(r.body).toMatchObject({ message: 'Not Found', status: 404 });
        expectNoSecret(r.body, root.secret, sibling.secret);
      }
      const v = await revoke(child, target.key_id);
      expect(v.status).toBe(404);
      expect(v.body).toMatchObject({ message: 'Not Found', status: 404 });
    }
    // Nothing changed: the old secrets still work, nothing was revoked.
    await expectRootIntact(root);
    expect((await list(sibling)).status).toBe(200);
    expect((await list(child)).status).toBe(200);
  });

  it("lists only itself and its descendants, never its root's or siblings' keys", async () => {
    const { root, child, sibling } = await family();
    const grandchild = await mustCreate(child);
    const ids = (await list(child)).body.keys.map((k) => k.key_id).sort();
    expect(ids).toEqual([child.key_id, grandchild.key_id].sort());
    const rootIds = (await list(root)).body.keys.map((k) => k.key_id);
    expect(rootIds).toEqual(
      expect.arrayContaining([root.key_id, child.key_id, sibling.key_id, grandchild.key_id]),
    );
    const sib = (await list(sibling)).body.keys.map((k) => k.key_id);
    expect(sib).toEqual([sibling.key_id]);
  });

  it('manages its own descendants: rotates and revokes a grandchild; the grandchild cannot touch it', async () => {
    const { root, child } = await family();
    const grandchild = await mustCreate(child);
    const up = await rotate(grandchild, child.key_id);
    expect(up.status).toBe(404);
    expect((await revoke(grandchild, root.key_id)).status).toBe(404);
    const r = await rotate(child, grandchild.key_id, 0);
    expect(r.status).toBe(200);
    expect(r.body.secret).not.toBe(grandchild.secret);
    expect(r.body.scopes).toEqual(grandchild.scopes);
    expect(r.body.expires_at).toBe(grandchild.expires_at);
    expect((await list(grandchild)).status).toBe(401);
    expect((await list({ key_id: grandchild.key_id, secret: r.body.secret })).status).toBe(200);
    expect((await revoke(child, grandchild.key_id)).body.status).toBe('revoked');
    expect((await list(child)).status).toBe(200);
  });

  it('rotating itself keeps its scopes and expiry', async () => {
    const root = await rootKey(auth.http);
    const child = await mustCreate(root, { scopes: RW, expires_in_seconds: 3600 });
    const r = await rotate(child, child.key_id, 0);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ scopes: child.scopes, expires_at: child.expires_at });
  });
});

describe('nothing a key does gives more scopes or a longer life', () => {
  it('a grandchild with more scopes than its parent: 403; with a longer life: 403', async () => {
    const root = await rootKey(auth.http);
    const child = await mustCreate(root, { scopes: RW, expires_in_seconds: 600 });
    const more = await create(child, {
      scopes: [...RW, { resource: 'admin', action: 'read' }],
    });
    expect(more.status).toBe(403);
    expect(more.body).toMatchObject({ status: 403, details: { missing: ['admin:read'] } });
    const wildcard = await create(child, { scopes: [{ resource: '*', action: '*' }] });
    expect(wildcard.status).toBe(403);
    const longer = await create(child, { scopes: RW, expires_in_seconds: 3600 });
    expect(longer.status).toBe(403);
    const inherits = await mustCreate(child, { scopes: RW });
    expect(inherits.expires_at).toBe(child.expires_at);
    await expectRootIntact(root);
  });

  it('a JWT of a child key carries only its scopes, ends with the key, and manages nothing more', async () => {
    const { root, child, sibling } = await family();
    const ro = await mustCreate(root, {
      scopes: [{ resource: 'keys', action: 'read' }],
      expires_in_seconds: 120,
    });
    const roClaims = decodeJwt(await token(ro));
    expect(roClaims.scopes).toEqual(['keys:read']);
    expect(roClaims.exp! * 1000).toBeLessThanOrEqual(Date.parse(ro.expires_at!));

    const jwt = { token: await token(child) };
    expect(decodeJwt(jwt.token)).toMatchObject({
      key_id: child.key_id,
      scopes: ['keys:read', 'keys:write'],
    });
    for (const target of [root, sibling]) {
      const r = await rotate(jwt, target.key_id);
      expect(r.status).toBe(404);
      expectNoSecret(r.body, root.secret);
      expect((await revoke(jwt, target.key_id)).status).toBe(404);
    }
    // A token cannot mint a secret that outlives it, not even for its own key.
    const self = await rotate(jwt, child.key_id);
    expect(self.status).toBe(403);
    expectNoSecret(self.body);
    // A key created with a token ends with the token.
    const viaJwt = await mustCreate(jwt, { scopes: [] });
    expect(Date.parse(viaJwt.expires_at!)).toBeLessThanOrEqual(decodeJwt(jwt.token).exp! * 1000);
    const tooLong = await create(jwt, { scopes: [], expires_in_seconds: 86_400 });
    expect(tooLong.status).toBe(403);
    expect(
      (await create(jwt, { scopes: [...RW, { resource: 'echo', action: 'read' }] })).status,
    ).toBe(403);
    await expectRootIntact(root);
  });

  it('an old secret in its grace period cannot rotate the key nor create keys that outlive the grace', async () => {
    const root = await rootKey(auth.http);
    const child = await mustCreate(root);
    const rotated = await rotate(root, child.key_id, 30);
    expect(rotated.status).toBe(200);
    const again = await rotate(child, child.key_id, 0); // child = the old secret
    expect(again.status).toBe(403);
    expectNoSecret(again.body);
    const kid = await create(child, { scopes: [], expires_in_seconds: 3600 });
    expect(kid.status).toBe(403);
    const capped = await mustCreate(child, { scopes: [] });
    expect(capped.expires_at).toBe(rotated.body.previous_secret_expires_at);
    // The new secret can.
    const fresh = { key_id: child.key_id, secret: rotated.body.secret };
    expect((await rotate(fresh, child.key_id, 0)).status).toBe(200);
  });

  it(`keys nest at most 16 levels deep (400 JSON beyond)`, async () => {
    let k: KeyWithSecret = await rootKey(auth.http);
    for (let depth = 1; depth <= 16; depth++) k = await mustCreate(k);
    const r = await create(k, { scopes: [] });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      status: 400,
      details: expect.stringMatching(/^KeyTreeTooDeep/),
    });
  });
});

/** Collects WatchKeyEvents messages. */
function watchEvents() {
  const client = grpcClient(auth.grpc);
  const stream: ClientReadableStream<authV1.WatchKeyEventsResponse> = client.watchKeyEvents({});
  const seen: authV1.WatchKeyEventsResponse[] = [];
  stream.on('data', (m: authV1.WatchKeyEventsResponse) => seen.push(m));
  stream.on('error', () => undefined);
  return {
    seen,
    async until(pred: () => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error('events did not arrive in time');
        await sleep(20);
      }
    },
    close() {
      stream.cancel();
      client.close();
    },
  };
}

describe('revoking cascades', () => {
  it('revoking a key revokes every key below it, each announced on WatchKeyEvents', async () => {
    const { root, child, sibling } = await family();
    const grandchild = await mustCreate(child);
    const greatGrandchild = await mustCreate(grandchild);
    const events = watchEvents();
    try {
      await events.until(() =>
        events.seen.some((m) => m.type === authV1.KeyEventType.KEY_EVENT_TYPE_SUBSCRIBED),
      );
      const r = await revoke(root, root.key_id);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('revoked');
      const all = [root, child, sibling, grandchild, greatGrandchild];
      await events.until(() =>
        all.every((k) =>
          events.seen.some(
            (m) => m.type === authV1.KeyEventType.KEY_EVENT_TYPE_REVOKED && m.keyId === k.key_id,
          ),
        ),
      );
      for (const k of all) {
        const use = await list(k);
        expect(use.status, k.key_id).toBe(401);
        expect(use.body.details).toMatch(/^RevokedKey/);
      }
    } finally {
      events.close();
    }
  });

  it('a child created while its ancestor is being revoked never survives the revocation', async () => {
    const root = await rootKey(auth.http);
    const child = await mustCreate(root);
    const creations = Array.from({ length: 12 }, () => create(child, { scopes: [] }));
    const revoked = revoke(root, child.key_id);
    const results = await Promise.all([...creations, revoked]);
    expect(results.every((r) => r.status < 500)).toBe(true);
    const db = new Client({ connectionString: pg.info.url });
    await db.connect();
    try {
      const active = await db.query(
        `SELECT key_id FROM api_keys WHERE $1 = ANY (ancestor_key_ids) AND status = 'active'`,
        [child.key_id],
      );
      expect(active.rows).toEqual([]);
    } finally {
      await db.end();
    }
    await expectRootIntact(root);
  });
});

describe('a rotation ends the tokens issued before it', () => {
  it('grace 0: a token minted from the old secret is refused; one minted right after works', async () => {
    const root = await rootKey(auth.http);
    const child = await mustCreate(root);
    const before = { token: await token(child) };
    expect((await list(before)).status).toBe(200);
    const r = await rotate(root, child.key_id, 0);
    expect(r.status).toBe(200);
    const refused = await list(before);
    expect(refused.status).toBe(401);
    expect(refused.body.details).toMatch(/^RevokedKey .*rotated/);
    // Minted in the same second as the rotation: still accepted (iat is the cut-off second).
    const after = { token: await token({ key_id: child.key_id, secret: r.body.secret }) };
    expect(decodeJwt(after.token).iat! * 1000).toBeGreaterThan(Date.parse(r.body.updated_at!) - 1);
    expect((await list(after)).status).toBe(200);
    // And the old secret cannot mint new ones.
    const old = await call(`${auth.http}/token`, {
      method: 'POST',
      headers: { authorization: basic(child.key_id, child.secret) },
    });
    expect(old.status).toBe(401);
    await expectRootIntact(root);
  });
});
