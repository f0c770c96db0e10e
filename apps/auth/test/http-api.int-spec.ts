// The HTTP API on a real Postgres (testkit) with the real migrations.
import { type PostgresInfo, type Started } from '@edge/testkit';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basic,
  call,
  type KeyWithSecret,
  rootKey,
  type RunningAuth,
  sleep,
  startAuth,
  startPostgres,
} from './helpers';

let pg: Started<PostgresInfo>;
let auth: RunningAuth;
let root: KeyWithSecret;

beforeAll(async () => {
  pg = await startPostgres();
  auth = await startAuth(pg.info.url);
  root = await rootKey(auth.http);
});

afterAll(async () => {
  await auth?.close();
  await pg?.stop();
});

const as = (k: { key_id: string; secret: string }) => ({
  authorization: basic(k.key_id, k.secret),
});

async function child(
  parent: { key_id: string; secret: string },
  json: unknown,
): Promise<{ status: number; body: KeyWithSecret }> {
  return call<KeyWithSecret>(`${auth.http}/keys`, { method: 'POST', headers: as(parent), json });
}

describe('create-root-key', () => {
  it('returns the quickstart shape with a one-time secret', () => {
    expect(Object.keys(root).sort()).toEqual(
      [
        'tenant',
        'user_id',
        'key_id',
        'created_at',
        'updated_at',
        'revoked_at',
        'status',
        'scopes',
        'secret',
      ].sort(),
    );
    expect(root).toMatchObject({
      revoked_at: null,
      status: 'active',
      scopes: [
        { resource: 'keys', action: 'read' },
        { resource: 'keys', action: 'write' },
      ],
    });
    expect(root.key_id).toMatch(/^ak_[0-9a-f]{32}$/);
    expect(Buffer.from(root.secret, 'base64url')).toHaveLength(32);
  });

  it('also answers POST and makes a new tenant each time', async () => {
    const r = await call<KeyWithSecret>(`${auth.http}/create-root-key`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body.tenant).not.toBe(root.tenant);
  });
});

describe('child keys, listing, tenant isolation', () => {
  it('creates a child key with a subset of the scopes, usable at once', async () => {
    const r = await child(root, { scopes: [{ resource: 'keys', action: 'read' }] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      tenant: root.tenant,
      user_id: root.user_id,
      scopes: [{ resource: 'keys', action: 'read' }],
      parent_key_id: root.key_id,
    });
    const list = await call(`${auth.http}/keys`, { headers: as(r.body) });
    expect(list.status).toBe(200);
  });

  it('refuses scopes the caller does not hold (403), and writes with a read-only key', async () => {
    const r = await child(root, { scopes: [{ resource: 'echo', action: 'read' }] });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ message: 'Forbidden', status: 403 });
    const ro = (await child(root, { scopes: [{ resource: 'keys', action: 'read' }] })).body;
    const escalate = await child(ro, { scopes: [{ resource: 'keys', action: 'read' }] });
    expect(escalate.status).toBe(403);
    // The contract's 403 details, the same words the gateway uses.
    expect((escalate.body as unknown as { details: unknown }).details).toBe(
      'MissingScope keys:write',
    );
  });

  it('validates the body', async () => {
    for (const json of [
      {},
      { scopes: 'keys:read' },
      { scopes: [{ resource: 'Keys!', action: 'read' }] },
      { scopes: [], expires_in_seconds: -1 },
      { scopes: [], unexpected: true },
    ]) {
      const r = await child(root, json);
      expect(r.status, JSON.stringify(json)).toBe(400);
      expect(r.body).toMatchObject({ message: 'Validation failed', status: 400 });
      expect(Array.isArray((r.body as unknown as { details: unknown }).details)).toBe(true);
    }
  });

  it("lists the tenant's keys without secrets or hashes", async () => {
    const r = await call<{ keys: Record<string, unknown>[] }>(`${auth.http}/keys`, {
      headers: as(root),
    });
    expect(r.status).toBe(200);
    expect(r.body.keys.length).toBeGreaterThanOrEqual(2);
    expect(r.body.keys.every((k) => k.tenant === root.tenant)).toBe(true);
    const text = JSON.stringify(r.body);
    expect(text).not.toMatch(/secret|hash/i);
    expect(text).not.toContain(root.secret);
  });

  it("never shows or touches another tenant's keys (404)", async () => {
    const other = await rootKey(auth.http);
    const list = await call<{ keys: { key_id: string }[] }>(`${auth.http}/keys`, {
      headers: as(other),
    });
    expect(list.body.keys.map((k) => k.key_id)).toEqual([other.key_id]);
    const revoke = await call(`${auth.http}/keys/${root.key_id}/revoke`, {
      method: 'POST',
      headers: as(other),
    });
    expect(revoke.status).toBe(404);
    expect(revoke.body).toMatchObject({ message: 'Not Found', status: 404 });
    const rotate = await call(`${auth.http}/keys/${root.key_id}/rotate`, {
      method: 'POST',
      headers: as(other),
      json: { grace_period_seconds: 0 },
    });
    expect(rotate.status).toBe(404);
    // root still works
    expect((await call(`${auth.http}/keys`, { headers: as(root) })).status).toBe(200);
  });
});

describe('revoke, rotate, expiry', () => {
  it('revokes a key: it stops working at once; revoking again is idempotent', async () => {
    const k = (await child(root, { scopes: [{ resource: 'keys', action: 'read' }] })).body;
    const r = await call<KeyWithSecret>(`${auth.http}/keys/${k.key_id}/revoke`, {
      method: 'POST',
      headers: as(root),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'revoked', key_id: k.key_id });
    expect(r.body.revoked_at).not.toBeNull();
    const use = await call(`${auth.http}/keys`, { headers: as(k) });
    expect(use.status).toBe(401);
    expect(use.body).toMatchObject({
      message: 'Unauthenticated',
      details: expect.stringMatching(/^RevokedKey /),
    });
    const again = await call(`${auth.http}/keys/${k.key_id}/revoke`, {
      method: 'POST',
      headers: as(root),
    });
    expect(again.status).toBe(200);
    const rotate = await call(`${auth.http}/keys/${k.key_id}/rotate`, {
      method: 'POST',
      headers: as(root),
      json: { grace_period_seconds: 5 },
    });
    expect(rotate.status).toBe(409);
  });

  it('rotates: new secret works, old one only for the grace period', async () => {
    const k = (await child(root, { scopes: [{ resource: 'keys', action: 'read' }] })).body;
    const r = await call<KeyWithSecret>(`${auth.http}/keys/${k.key_id}/rotate`, {
      method: 'POST',
      headers: as(root),
      json: { grace_period_seconds: 2 },
    });
    expect(r.status).toBe(200);
    expect(r.body.secret).not.toBe(k.secret);
    expect(r.body.previous_secret_expires_at).toEqual(expect.any(String));
    const rotated = { key_id: k.key_id, secret: r.body.secret };
    expect((await call(`${auth.http}/keys`, { headers: as(rotated) })).status).toBe(200);
    expect((await call(`${auth.http}/keys`, { headers: as(k) })).status).toBe(200);
    await sleep(2100);
    const old = await call(`${auth.http}/keys`, { headers: as(k) });
    expect(old.status).toBe(401);
    expect(old.body.details).toMatch(/^InvalidSecret/);
    expect((await call(`${auth.http}/keys`, { headers: as(rotated) })).status).toBe(200);
  });

  it('rotates with no grace: the old secret dies at once; bad grace values are 400', async () => {
    const k = (await child(root, { scopes: [{ resource: 'keys', action: 'read' }] })).body;
    const r = await call<KeyWithSecret>(`${auth.http}/keys/${k.key_id}/rotate`, {
      method: 'POST',
      headers: as(root),
      json: { grace_period_seconds: 0 },
    });
    expect(r.body.previous_secret_expires_at).toBeNull();
    expect((await call(`${auth.http}/keys`, { headers: as(k) })).status).toBe(401);
    for (const json of [{}, { grace_period_seconds: -1 }, { grace_period_seconds: 1e9 }]) {
      const bad = await call(`${auth.http}/keys/${k.key_id}/rotate`, {
        method: 'POST',
        headers: as(root),
        json,
      });
      expect(bad.status, JSON.stringify(json)).toBe(400);
    }
  });

  it('expires keys; a child cannot outlive its expiring parent', async () => {
    const k = (
      await child(root, {
        scopes: [
          { resource: 'keys', action: 'read' },
          { resource: 'keys', action: 'write' },
        ],
        expires_in_seconds: 1,
      })
    ).body;
    expect(k.expires_at).toEqual(expect.any(String));
    const longer = await child(k, { scopes: [], expires_in_seconds: 3600 });
    expect(longer.status).toBe(403);
    const inherits = await child(k, { scopes: [] });
    expect(inherits.status).toBe(201);
    expect(inherits.body.expires_at).toBe(k.expires_at);
    await sleep(1100);
    const r = await call(`${auth.http}/keys`, { headers: as(k) });
    expect(r.status).toBe(401);
    expect(r.body.details).toMatch(/^ExpiredKey /);
  });
});

describe('token exchange', () => {
  it('issues an ES256 JWT that verifies against the served JWKS', async () => {
    const r = await call<{ access_token: string; token_type: string; expires_in: number }>(
      `${auth.http}/token`,
      { method: 'POST', headers: as(root) },
    );
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe('Bearer');
    expect(r.body.expires_in).toBe(auth.config.JWT_TTL_SECONDS);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const header = decodeProtectedHeader(r.body.access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT', kid: expect.any(String) });
    const jwks = createRemoteJWKSet(new URL(`${auth.http}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(r.body.access_token, jwks, {
      issuer: auth.config.JWT_ISSUER,
      audience: auth.config.JWT_AUDIENCE,
      algorithms: ['ES256'],
    });
    expect(payload).toMatchObject({
      sub: root.user_id,
      tenant: root.tenant,
      key_id: root.key_id,
      scopes: ['keys:read', 'keys:write'],
      jti: expect.any(String),
    });
    expect(payload.exp! - payload.iat!).toBe(auth.config.JWT_TTL_SECONDS);
    const jwksBody = await call<{ keys: Record<string, unknown>[] }>(
      `${auth.http}/.well-known/jwks.json`,
    );
    expect(JSON.stringify(jwksBody.body)).not.toMatch(/"d"/);
  });

  it('accepts the token on management routes until its key is revoked', async () => {
    const k = (await child(root, { scopes: [{ resource: 'keys', action: 'read' }] })).body;
    const t = await call<{ access_token: string }>(`${auth.http}/token`, {
      method: 'POST',
      headers: as(k),
    });
    const bearer = { authorization: `Bearer ${t.body.access_token}` };
    expect((await call(`${auth.http}/keys`, { headers: bearer })).status).toBe(200);
    // scopes come from the token: keys:read only
    const write = await call(`${auth.http}/keys`, {
      method: 'POST',
      headers: bearer,
      json: { scopes: [] },
    });
    expect(write.status).toBe(403);
    // a token cannot be exchanged for another token
    expect((await call(`${auth.http}/token`, { method: 'POST', headers: bearer })).status).toBe(
      401,
    );
    await call(`${auth.http}/keys/${k.key_id}/revoke`, { method: 'POST', headers: as(root) });
    const after = await call(`${auth.http}/keys`, { headers: bearer });
    expect(after.status).toBe(401);
  });

  it('rejects forged, tampered and alg:none tokens', async () => {
    const t = await call<{ access_token: string }>(`${auth.http}/token`, {
      method: 'POST',
      headers: as(root),
    });
    const [h, p, s] = t.body.access_token.split('.');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const tamperedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), tenant: 'x' }),
    ).toString('base64url');
    for (const token of [`${none}.${p}.`, `${h}.${tamperedPayload}.${s}`, 'not.a.jwt', 'garbage']) {
      const r = await call(`${auth.http}/keys`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status, token).toBe(401);
      expect(r.body).toMatchObject({ message: 'Unauthenticated', status: 401 });
    }
  });
});

describe('bad input is JSON 4xx', () => {
  it('malformed JSON body: 400, body not echoed', async () => {
    const r = await call(`${auth.http}/keys`, {
      method: 'POST',
      headers: { ...as(root), 'content-type': 'application/json' },
      body: '{"hunter2',
    });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      message: 'Bad Request',
      status: 400,
      details: 'malformed request body',
    });
  });

  it('unknown route: 404 JSON', async () => {
    const r = await call(`${auth.http}/nope`);
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ message: 'Not Found', status: 404 });
  });

  it('credentials: none, malformed, unknown key, wrong secret', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /^NoCredentials/],
      [{ authorization: 'Basic !!!!' }, /^MalformedCredentials/],
      [
        { authorization: 'Basic ' + Buffer.from('nocolon').toString('base64') },
        /^MalformedCredentials/,
      ],
      [{ authorization: basic('ak_' + '0'.repeat(32), root.secret) }, /^UnknownKey/],
      [{ authorization: basic('whatever', 'x') }, /^UnknownKey/],
      [{ authorization: basic(root.key_id, 'wrong') }, /^InvalidSecret/],
      [{ authorization: 'Digest abc' }, /^NoCredentials/],
    ];
    for (const [headers, details] of cases) {
      const r = await call(`${auth.http}/keys`, { headers });
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.body).toMatchObject({
        message: 'Unauthenticated',
        status: 401,
        details: expect.stringMatching(details),
      });
      expect(r.headers.get('www-authenticate')).toMatch(/Basic/);
      expect(JSON.stringify(r.body)).not.toContain(root.secret);
    }
  });

  it('health and docs are served', async () => {
    const h = await call(`${auth.http}/health`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    const docs = await call<{ paths: Record<string, unknown> }>(`${auth.http}/docs-json`);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining([
        '/create-root-key',
        '/keys',
        '/keys/{keyId}/revoke',
        '/keys/{keyId}/rotate',
        '/token',
      ]),
    );
  });
});
