// Start-up, restarts, signing-key rotation and production mode, on a real Postgres.
import { freePort, type PostgresInfo, type Started } from '@edge/testkit';
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { InitialSchema1763700000000 } from '../src/database/migrations/1763700000000-initial-schema';
import { typeOrmOptions } from '../src/database/typeorm-options';
import { afterAll, describe, expect, it } from 'vitest';
import {
  APP_DIR,
  basic,
  call,
  rootKey,
  sleep,
  spawnBuiltAuth,
  startAuth,
  startPostgres,
} from './helpers';

const started: Started<PostgresInfo>[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

async function freshPostgres(port?: number): Promise<Started<PostgresInfo>> {
  const pg = await startPostgres(port === undefined ? {} : { port });
  started.push(pg);
  return pg;
}

async function jwks(http: string): Promise<JWK[]> {
  return (await call<{ keys: JWK[] }>(`${http}/.well-known/jwks.json`)).body.keys;
}

async function token(http: string, key: { key_id: string; secret: string }): Promise<string> {
  const r = await call<{ access_token: string }>(`${http}/token`, {
    method: 'POST',
    headers: { authorization: basic(key.key_id, key.secret) },
  });
  expect(r.status).toBe(200);
  return r.body.access_token;
}

describe('migrations and start-up', () => {
  it('runs the real migrations (no synchronize) and waits for Postgres to come up', async () => {
    const port = await freePort();
    // Start the service first: it must retry, not crash, until Postgres is there.
    const url = `postgres://postgres:postgres@127.0.0.1:${port}/edge`;
    const authP = startAuth(url, { DB_CONNECT_RETRY_DELAY_MS: '200' });
    await sleep(1500);
    const pg = await freshPostgres(port);
    const auth = await authP;
    try {
      const db = new Client({ connectionString: pg.info.url });
      await db.connect();
      const migrations = await db.query<{ name: string }>('SELECT name FROM typeorm_migrations');
      expect(migrations.rows.map((r) => r.name)).toEqual([
        'InitialSchema1763700000000',
        'KeyEvents1763800000000',
        'KeyOwnership1763900000000',
      ]);
      const tables = await db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'api_keys',
        'key_events',
        'signing_keys',
        'tenants',
        'typeorm_migrations',
        'users',
      ]);
      // Secrets are stored only as 32-byte hashes; private keys only encrypted.
      const root = await rootKey(auth.http);
      const row = await db.query<{ secret_hash: Buffer }>(
        'SELECT secret_hash FROM api_keys WHERE key_id = $1',
        [root.key_id],
      );
      expect(row.rows[0]!.secret_hash).toHaveLength(32);
      expect(row.rows[0]!.secret_hash.toString('base64url')).not.toBe(root.secret);
      const keys = await db.query<{ private_key_encrypted: Buffer }>(
        'SELECT private_key_encrypted FROM signing_keys',
      );
      expect(keys.rows[0]!.private_key_encrypted.toString()).not.toContain('PRIVATE KEY');
      await db.end();
    } finally {
      await auth.close();
    }
  });
});

describe('the key-ownership migration on existing data', () => {
  it("fills in every key's ancestry and revokes keys below keys revoked before it", async () => {
    const pg = await freshPostgres();
    // The schema as it was before: only the first migration.
    const before = new DataSource({
      ...typeOrmOptions({ DATABASE_URL: pg.info.url }),
      migrations: [InitialSchema1763700000000],
      entities: [],
      logging: false,
    });
    await before.initialize();
    const t = '00000000-0000-4000-8000-000000000001';
    const u = '00000000-0000-4000-8000-000000000002';
    const id = (n: number) => `ak_${String(n).padStart(32, '0')}`;
    await before.query(`INSERT INTO tenants (id) VALUES ($1)`, [t]);
    await before.query(`INSERT INTO users (id, tenant_id) VALUES ($1, $2)`, [u, t]);
    // 1 (root) -> 2 -> 3, and 1 -> 4 (revoked) -> 5 (still active under the old rules)
    const rows: [number, number | null, string][] = [
      [1, null, 'active'],
      [2, 1, 'active'],
      [3, 2, 'active'],
      [4, 1, 'revoked'],
      [5, 4, 'active'],
    ];
    for (const [n, parent, status] of rows) {
      await before.query(
        `INSERT INTO api_keys (key_id, tenant_id, user_id, parent_key_id, status, scopes,
                               secret_hash, created_at, updated_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, '[]', $6, now(), now(), $7)`,
        [
          id(n),
          t,
          u,
          parent === null ? null : id(parent),
          status,
          Buffer.alloc(32, n),
          status === 'revoked' ? new Date() : null,
        ],
      );
    }
    await before.destroy();

    const auth = await startAuth(pg.info.url);
    try {
      const db = new Client({ connectionString: pg.info.url });
      await db.connect();
      const keys = await db.query<{ key_id: string; ancestor_key_ids: string[]; status: string }>(
        'SELECT key_id, ancestor_key_ids, status FROM api_keys ORDER BY key_id',
      );
      // The cascade is announced through the ordered log (one REVOKED row per key it revoked),
      // so processors learn it by sequence like any other revocation.
      const events = await db.query<{ key_id: string; tenant_id: string; type: string }>(
        'SELECT key_id, tenant_id, type FROM key_events ORDER BY seq',
      );
      await db.end();
      expect(events.rows).toEqual([{ key_id: id(5), tenant_id: t, type: 'REVOKED' }]);
      expect(keys.rows).toEqual([
        { key_id: id(1), ancestor_key_ids: [], status: 'active' },
        { key_id: id(2), ancestor_key_ids: [id(1)], status: 'active' },
        { key_id: id(3), ancestor_key_ids: [id(1), id(2)], status: 'active' },
        { key_id: id(4), ancestor_key_ids: [id(1)], status: 'revoked' },
        { key_id: id(5), ancestor_key_ids: [id(1), id(4)], status: 'revoked' },
      ]);
    } finally {
      await auth.close();
    }
  });
});

describe('several replicas booting at once on a fresh database', () => {
  it('migrate once (advisory lock) and share one signing key', async () => {
    const pg = await freshPostgres();
    const replicas = await Promise.all([spawnBuiltAuth(pg.info.url), spawnBuiltAuth(pg.info.url)]);
    try {
      const [a, b] = replicas;
      const kidsA = (await jwks(a.http)).map((k) => k.kid);
      const kidsB = (await jwks(b.http)).map((k) => k.kid);
      expect(kidsA).toHaveLength(1);
      expect(kidsB).toEqual(kidsA);
      const root = await rootKey(a.http);
      const r = await call(`${b.http}/keys`, {
        headers: { authorization: basic(root.key_id, root.secret) },
      });
      expect(r.status).toBe(200);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });
});

describe('signing keys', () => {
  it('survive a restart of the service (same database)', async () => {
    const pg = await freshPostgres();
    const first = await startAuth(pg.info.url);
    const root = await rootKey(first.http);
    const before = await jwks(first.http);
    const oldToken = await token(first.http, root);
    await first.close();

    const second = await startAuth(pg.info.url);
    try {
      const after = await jwks(second.http);
      expect(after.map((k) => k.kid)).toEqual(before.map((k) => k.kid));
      const newToken = await token(second.http, root);
      expect(decodeProtectedHeader(newToken).kid).toBe(decodeProtectedHeader(oldToken).kid);
      const set = createLocalJWKSet({ keys: after });
      const opts = { issuer: second.config.JWT_ISSUER, audience: second.config.JWT_AUDIENCE };
      await expect(jwtVerify(oldToken, set, opts)).resolves.toBeDefined();
      // the token from before the restart is still accepted by the service itself
      const r = await call(`${second.http}/keys`, {
        headers: { authorization: `Bearer ${oldToken}` },
      });
      expect(r.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('rotate: the successor is published before it signs; the old key stays published', async () => {
    const pg = await freshPostgres();
    // rotation 4 s, publish-ahead 2 s, tokens live 10 s (maintenance runs every ~0.67 s)
    const auth = await startAuth(pg.info.url, {
      SIGNING_KEY_ROTATION_SECONDS: '4',
      SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '2',
      JWT_TTL_SECONDS: '10',
    });
    try {
      const root = await rootKey(auth.http);
      const t1 = await token(auth.http, root);
      const kid1 = decodeProtectedHeader(t1).kid!;
      expect((await jwks(auth.http)).map((k) => k.kid)).toEqual([kid1]);

      // After rotation - publishAhead (2 s) a successor is in the JWKS, not yet signing.
      await sleep(2600);
      const published = (await jwks(auth.http)).map((k) => k.kid);
      expect(published).toHaveLength(2);
      expect(published).toContain(kid1);
      const kid2 = published.find((k) => k !== kid1)!;
      expect(decodeProtectedHeader(await token(auth.http, root)).kid).toBe(kid1);

      // After 4 s the successor signs; the old key is still published (token lifetime).
      await sleep(1800);
      const t2 = await token(auth.http, root);
      expect(decodeProtectedHeader(t2).kid).toBe(kid2);
      const now = (await jwks(auth.http)).map((k) => k.kid);
      expect(now).toContain(kid1);
      expect(now).toContain(kid2);
      const set = createLocalJWKSet({ keys: await jwks(auth.http) });
      const opts = { issuer: auth.config.JWT_ISSUER, audience: auth.config.JWT_AUDIENCE };
      await expect(jwtVerify(t1, set, opts)).resolves.toBeDefined();
      await expect(jwtVerify(t2, set, opts)).resolves.toBeDefined();
    } finally {
      await auth.close();
    }
  });
});

/** Runs the built service with exactly `env` (no NODE_ENV unless given) until it exits. */
function runBuilt(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(APP_DIR, 'dist/main.js')], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`auth did not refuse to start: ${stderr}`));
    }, 30_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('safe by default: development defaults only with the explicit opt-in', () => {
  it('NODE_ENV unset and no AUTH_DEV_MODE: refuses to start, naming every missing secret', async () => {
    const pg = await freshPostgres();
    const r = await runBuilt({ DATABASE_URL: pg.info.url, PORT: '0', GRPC_PORT: '0' });
    expect(r.code).toBe(1);
    for (const name of ['ADMIN_TOKEN', 'API_KEY_PEPPER', 'SIGNING_KEY_ENCRYPTION_KEY']) {
      expect(r.stderr).toContain(`${name}: required`);
    }
  });

  it('AUTH_DEV_MODE=1 refuses a non-loopback HOST and NODE_ENV=production', async () => {
    const pg = await freshPostgres();
    const wide = await runBuilt({ DATABASE_URL: pg.info.url, AUTH_DEV_MODE: '1', HOST: '0.0.0.0' });
    expect(wide.code).toBe(1);
    expect(wide.stderr).toMatch(/HOST: AUTH_DEV_MODE only binds loopback/);
    const prod = await runBuilt({
      DATABASE_URL: pg.info.url,
      AUTH_DEV_MODE: '1',
      NODE_ENV: 'production',
    });
    expect(prod.code).toBe(1);
    expect(prod.stderr).toMatch(/AUTH_DEV_MODE: must not be set with NODE_ENV=production/);
  });

  it('with secrets but no ADMIN_TOKEN in dev mode off, nothing starts; create-root-key never opens', async () => {
    const pg = await freshPostgres();
    await expect(
      startAuth(pg.info.url, {
        AUTH_DEV_MODE: '0',
        API_KEY_PEPPER: 'pepper-'.padEnd(40, 'p'),
        SIGNING_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
      }),
    ).rejects.toThrow(/ADMIN_TOKEN: required/);
  });
});

describe('production mode', () => {
  it('refuses to start without an admin token and server secrets', async () => {
    const pg = await freshPostgres();
    await expect(
      startAuth(pg.info.url, { NODE_ENV: 'production', AUTH_DEV_MODE: '0' }),
    ).rejects.toThrow(/ADMIN_TOKEN: required/);
  });

  it('requires the admin token for create-root-key', async () => {
    const pg = await freshPostgres();
    const adminToken = 'admin-'.padEnd(48, 'x');
    const auth = await startAuth(pg.info.url, {
      NODE_ENV: 'production',
      AUTH_DEV_MODE: '0',
      ADMIN_TOKEN: adminToken,
      API_KEY_PEPPER: 'pepper-'.padEnd(40, 'p'),
      SIGNING_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
    });
    try {
      const none = await call(`${auth.http}/create-root-key`);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ message: 'Unauthenticated', status: 401 });
      const wrong = await call(`${auth.http}/create-root-key`, {
        headers: { authorization: `Bearer ${adminToken}y` },
      });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toMatchObject({ message: 'Forbidden', status: 403 });
      const basicTry = await call(`${auth.http}/create-root-key`, {
        method: 'POST',
        headers: { authorization: basic('admin', adminToken) },
      });
      expect(basicTry.status).toBe(401);
      const ok = await rootKey(auth.http, { authorization: `Bearer ${adminToken}` });
      expect(ok.status).toBe('active');
      const list = await call(`${auth.http}/keys`, {
        headers: { authorization: basic(ok.key_id, ok.secret) },
      });
      expect(list.status).toBe(200);
    } finally {
      await auth.close();
    }
  });
});
