// Revocation cannot get lost (issue 6, section 3), through the real stack: Postgres, auth,
// authn processor, Envoy. The auth service's LISTEN connection is killed with
// pg_terminate_backend, the authn processor is restarted, and another tenant floods
// revocations; a revoked key (Basic) and its JWT (Bearer) are refused in every case.
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '../src';
import { type RootKey, basic, createRootKey, expectJsonError } from './support';

/** The processor's old count bound on remembered revocations (still a valid variable). */
const SMALL_CACHE = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('revocation through the front proxy', () => {
  let stack: FrontProxyStack;
  let db: Client;

  const call = (authorization: string) =>
    fetch(`${stack.proxyUrl}/api/v0/echo`, { headers: { authorization } });

  const childOf = async (parent: RootKey): Promise<RootKey> => {
    const res = await fetch(`${stack.authUrl}/keys`, {
      method: 'POST',
      headers: {
        authorization: basic(parent.key_id, parent.secret),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ scopes: [{ resource: 'keys', action: 'read' }] }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as RootKey;
  };

  const revoke = async (by: RootKey, keyId: string) => {
    const res = await fetch(`${stack.authUrl}/keys/${keyId}/revoke`, {
      method: 'POST',
      headers: { authorization: basic(by.key_id, by.secret) },
    });
    expect(res.status).toBe(200);
  };

  const token = async (key: RootKey): Promise<string> => {
    const res = await fetch(`${stack.authUrl}/token`, {
      method: 'POST',
      headers: { authorization: basic(key.key_id, key.secret) },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  /** Polls until `f` is true; returns the ms it took. */
  const until = async (f: () => Promise<boolean>, timeoutMs: number): Promise<number> => {
    const t0 = Date.now();
    for (;;) {
      if (await f()) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`);
      await sleep(25);
    }
  };

  /** Backends of the auth service's LISTEN connection. */
  const listenBackends = async (): Promise<number[]> => {
    const r = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
       WHERE pid <> pg_backend_pid()
         AND (application_name = 'edge-auth-key-events' OR query ILIKE 'LISTEN %')`,
    );
    return r.rows.map((x) => x.pid);
  };

  beforeAll(async () => {
    stack = await startFrontProxyStack({
      // A slow reconnect makes "revoked while the LISTEN connection was down" deterministic.
      authEnv: { KEY_EVENTS_RECONNECT_MS: '2000', KEY_EVENTS_HEARTBEAT_MS: '1000' },
      authnEnv: { KEY_CACHE_MAX_ENTRIES: String(SMALL_CACHE) },
    });
    db = new Client({ connectionString: stack.postgres.url });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await stack?.stop();
  });

  it('a key revoked while the LISTEN connection is down is refused within 1 s of it coming back', async () => {
    const root = await createRootKey(stack.authUrl);
    const child = await childOf(root);
    const jwt = await token(child);
    // Warm the processor's key cache (and its verified-token cache).
    expect((await call(basic(child.key_id, child.secret))).status).toBe(200);
    expect((await call(`Bearer ${jwt}`)).status).toBe(200);
    expect((await call(basic(child.key_id, child.secret))).status).toBe(200);

    const before = await listenBackends();
    expect(before.length).toBeGreaterThan(0);
    await db.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [before]);
    await revoke(root, child.key_id);

    // Wait for the LISTEN connection to be back (a new backend), then give the gateway 1 s.
    await until(async () => (await listenBackends()).some((p) => !before.includes(p)), 30_000);
    const back = Date.now();
    await until(async () => {
      const [b, t] = await Promise.all([
        call(basic(child.key_id, child.secret)),
        call(`Bearer ${jwt}`),
      ]);
      return b.status === 401 && t.status === 401;
    }, 5_000);
    expect(Date.now() - back).toBeLessThanOrEqual(1_000);
    await expectJsonError(await call(`Bearer ${jwt}`), 401, 'RevokedKey');
    await expectJsonError(await call(basic(child.key_id, child.secret)), 401, 'RevokedKey');
    // The owner still works.
    expect((await call(basic(root.key_id, root.secret))).status).toBe(200);
  });

  it("a revoked key's JWT is refused after the authn processor restarts", async () => {
    const root = await createRootKey(stack.authUrl);
    const child = await childOf(root);
    const jwt = await token(child);
    expect((await call(`Bearer ${jwt}`)).status).toBe(200);
    await revoke(root, child.key_id);
    await until(async () => (await call(`Bearer ${jwt}`)).status === 401, 5_000);

    await stack.stopPart('authn-processor');
    await stack.startPart('authn-processor');
    // Until it has loaded the revoked keys it answers 503 (fail closed), never 200.
    const seen = new Set<number>();
    await until(async () => {
      const s = (await call(`Bearer ${jwt}`)).status;
      seen.add(s);
      return s !== 503 && s !== 502;
    }, 30_000);
    expect(seen.has(200)).toBe(false);
    await expectJsonError(await call(`Bearer ${jwt}`), 401, 'RevokedKey');
    expect((await call(`Bearer ${await token(root)}`)).status).toBe(200);
  });

  it("another tenant creating and revoking many keys does not evict a tenant's revocation", async () => {
    const victim = await createRootKey(stack.authUrl);
    const vChild = await childOf(victim);
    const jwt = await token(vChild);
    await revoke(victim, vChild.key_id);
    await until(async () => (await call(`Bearer ${jwt}`)).status === 401, 5_000);

    const attacker = await createRootKey(stack.authUrl);
    for (let i = 0; i < SMALL_CACHE * 2 + 5; i++) {
      const k = await childOf(attacker);
      await revoke(attacker, k.key_id);
    }
    // Let the flood reach the processor, then the victim's revocation must still hold.
    const last = await childOf(attacker);
    const lastJwt = await token(last);
    await revoke(attacker, last.key_id);
    await until(async () => (await call(`Bearer ${lastJwt}`)).status === 401, 5_000);
    await expectJsonError(await call(`Bearer ${jwt}`), 401, 'RevokedKey');
  });
});
