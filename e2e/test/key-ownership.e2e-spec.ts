// Key ownership through the real stack (issue 6, finding 1): a child key cannot take over its
// root or a sibling, cannot hand out more than it has, revoking a key stops its descendants at
// the gateway, and rotating with grace 0 stops the JWTs minted from the old secret.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import { type EchoBody, type RootKey, basic, createRootKey, expectJsonError } from './support';

interface Key extends RootKey {
  expires_at?: string;
}

type Cred = { key_id: string; secret: string } | { token: string };
const authz = (c: Cred) => ('token' in c ? `Bearer ${c.token}` : basic(c.key_id, c.secret));
const RW = [
  { resource: 'keys', action: 'read' },
  { resource: 'keys', action: 'write' },
];

describe('key ownership through the front proxy', () => {
  let stack: FrontProxyStack;

  const gateway = (c: Cred, path = '/api/v0/echo') =>
    fetch(`${stack.proxyUrl}${path}`, { headers: { authorization: authz(c) } });

  const api = (c: Cred, path: string, json?: unknown) =>
    fetch(`${stack.authUrl}${path}`, {
      method: json === undefined && !path.endsWith('/revoke') ? 'GET' : 'POST',
      headers: {
        authorization: authz(c),
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });

  const createKey = async (parent: Cred, json: unknown = { scopes: RW }): Promise<Key> => {
    const res = await api(parent, '/keys', json);
    expect(res.status).toBe(201);
    return (await res.json()) as Key;
  };

  const token = async (k: { key_id: string; secret: string }): Promise<string> => {
    const res = await fetch(`${stack.authUrl}/token`, {
      method: 'POST',
      headers: { authorization: basic(k.key_id, k.secret) },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  /** Polls the gateway until `c` is refused (or `ms` pass); returns the last response. */
  const refusedWithin = async (c: Cred, ms: number): Promise<Response> => {
    const start = Date.now();
    for (;;) {
      const res = await gateway(c);
      if (res.status !== 200 || Date.now() - start > ms) return res;
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  /** The root still works at the gateway and at the API, with its original secret. */
  const expectRootIntact = async (root: RootKey) => {
    expect((await gateway(root)).status).toBe(200);
    expect((await api(root, '/keys')).status).toBe(200);
    expect((await gateway({ token: await token(root) })).status).toBe(200);
  };

  beforeAll(async () => {
    stack = await startFrontProxyStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a child with keys:write cannot rotate or revoke its root or a sibling; the root keeps working', async () => {
    const root = await createRootKey(stack.authUrl);
    const rootJwt = { token: await token(root) };
    const child = await createKey(root);
    const sibling = await createKey(root);
    const childJwt = { token: await token(child) };
    for (const attacker of [child, childJwt]) {
      for (const target of [root, sibling]) {
        const rot = await api(attacker, `/keys/${target.key_id}/rotate`, {
          grace_period_seconds: 0,
        });
        expect(rot.status).toBe(404);
        expect(rot.headers.get('content-type')).toContain('application/json');
        const text = await rot.text();
        expect(JSON.parse(text)).toMatchObject({ message: 'Not Found', status: 404 });
        expect(text).not.toMatch(/"secret"/);
        expect(text).not.toContain(root.secret);
        const rev = await api(attacker, `/keys/${target.key_id}/revoke`);
        expect(rev.status).toBe(404);
        expect(rev.headers.get('content-type')).toContain('application/json');
      }
    }
    // The child's listing shows neither its root nor its sibling.
    const listed = (await (await api(child, '/keys')).json()) as { keys: Key[] };
    expect(listed.keys.map((k) => k.key_id)).toEqual([child.key_id]);
    await expectRootIntact(root);
    expect((await gateway(rootJwt)).status).toBe(200);
    expect((await gateway(sibling)).status).toBe(200);
  });

  it('a child cannot create a grandchild with more scopes or a longer life (403 JSON)', async () => {
    const root = await createRootKey(stack.authUrl);
    const child = await createKey(root, { scopes: RW, expires_in_seconds: 600 });
    for (const body of [
      { scopes: [...RW, { resource: 'admin', action: 'read' }] },
      { scopes: [{ resource: '*', action: '*' }] },
      { scopes: RW, expires_in_seconds: 3600 },
    ]) {
      const res = await api(child, '/keys', body);
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(((await res.json()) as { status: number }).status).toBe(403);
    }
    const grandchild = await createKey(child, { scopes: [{ resource: 'keys', action: 'read' }] });
    expect(grandchild.expires_at).toBe(child.expires_at);
    await expectRootIntact(root);
  });

  it("a child key's JWT carries only the child's scopes and life, at the gateway too", async () => {
    const root = await createRootKey(stack.authUrl);
    const child = await createKey(root, {
      scopes: [{ resource: 'keys', action: 'read' }],
      expires_in_seconds: 120,
    });
    const jwt = await token(child);
    expect(decodeJwt(jwt).exp! * 1000).toBeLessThanOrEqual(Date.parse(child.expires_at!));
    const res = await gateway({ token: jwt });
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as EchoBody;
    expect(echoed.headers['x-scopes']).toBe('keys:read');
    expect(echoed.headers['x-key-id']).toBe(child.key_id);
    await expectJsonError(await gateway({ token: jwt }, '/api/v0/admin/x'), 403, 'MissingScope');
    // It cannot write keys, nor rotate anything (not even its own key).
    expect((await api({ token: jwt }, '/keys', { scopes: [] })).status).toBe(403);
    expect(
      (await api({ token: jwt }, `/keys/${child.key_id}/rotate`, { grace_period_seconds: 0 }))
        .status,
    ).toBe(403);
    await expectRootIntact(root);
  });

  it('revoking the root stops every descendant (Basic and JWT) at the gateway', async () => {
    const root = await createRootKey(stack.authUrl);
    const child = await createKey(root);
    const grandchild = await createKey(child);
    const creds: Cred[] = [
      root,
      child,
      grandchild,
      { token: await token(child) },
      { token: await token(grandchild) },
    ];
    // Warm the processor's caches.
    for (const c of creds) expect((await gateway(c)).status).toBe(200);
    const rev = await api(root, `/keys/${root.key_id}/revoke`);
    expect(rev.status).toBe(200);
    for (const c of creds) {
      const res = await refusedWithin(c, 2000);
      await expectJsonError(res, 401, 'RevokedKey');
    }
  });

  it('rotating with grace 0 stops JWTs minted from the old secret at the gateway', async () => {
    const root = await createRootKey(stack.authUrl);
    const child = await createKey(root);
    const oldJwt = { token: await token(child) };
    expect((await gateway(oldJwt)).status).toBe(200);
    expect((await gateway(child)).status).toBe(200);
    const rot = await api(root, `/keys/${child.key_id}/rotate`, { grace_period_seconds: 0 });
    expect(rot.status).toBe(200);
    const rotated = (await rot.json()) as Key;
    await expectJsonError(await refusedWithin(oldJwt, 2000), 401, 'InvalidToken');
    await expectJsonError(await refusedWithin(child, 2000), 401, 'InvalidSecret');
    // The new secret, and a JWT minted from it at once, work.
    const fresh = { key_id: child.key_id, secret: rotated.secret };
    expect((await gateway(fresh)).status).toBe(200);
    expect((await gateway({ token: await token(fresh) })).status).toBe(200);
    await expectRootIntact(root);
  });

  it('an authn processor started after a rotation still refuses JWTs from before it', async () => {
    const root = await createRootKey(stack.authUrl);
    const child = await createKey(root);
    const oldJwt = { token: await token(child) };
    expect((await gateway(oldJwt)).status).toBe(200);
    const rot = await api(root, `/keys/${child.key_id}/rotate`, { grace_period_seconds: 0 });
    expect(rot.status).toBe(200);
    const rotated = (await rot.json()) as Key;
    await expectJsonError(await refusedWithin(oldJwt, 2000), 401, 'InvalidToken');

    // A fresh processor never saw the ROTATED event: it learns the cut-off from ListRevokedKeys.
    await stack.stopPart('authn-processor');
    await stack.startPart('authn-processor');
    const start = Date.now();
    let res = await gateway(oldJwt);
    while ((res.status === 503 || res.status === 502) && Date.now() - start < 30_000) {
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
      res = await gateway(oldJwt);
    }
    await expectJsonError(res, 401, 'InvalidToken');
    const fresh = { key_id: child.key_id, secret: rotated.secret };
    expect((await gateway({ token: await token(fresh) })).status).toBe(200);
    await expectRootIntact(root);
  });
});
