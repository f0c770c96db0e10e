import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { infraBackend, type PostgresInfo, type Started } from '../src';
import { LocalContext } from '../src/local/instance';

async function withClient<T>(info: PostgresInfo, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: info.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Where Postgres keeps its data: <repo>/.local, or the per-checkout folder outside the checkout
// when the postgres user cannot reach it (a clone under a mode-700 home).
const ctx = LocalContext.load();
const localRoot = ctx.rootFor(ctx.tools.pgRunAsUser || undefined);
const tempDirsNamed = (name: string): string[] =>
  readdirSync(localRoot).filter((e) => e.startsWith(`${name}-${process.pid}-`));

describe('postgres (real)', () => {
  const backend = infraBackend();
  const running: Started<PostgresInfo>[] = [];
  afterAll(() => Promise.all(running.map((p) => p.stop())));

  it('runs two isolated instances at once', async () => {
    const [a, b] = await Promise.all([backend.postgres(), backend.postgres({ database: 'other' })]);
    running.push(a, b);
    expect(a.info.port).not.toBe(b.info.port);
    expect(b.info.database).toBe('other');

    await withClient(a.info, (c) => c.query('CREATE TABLE only_in_a (id int)'));
    const inA = await withClient(a.info, (c) =>
      c.query<{ db: string }>('SELECT current_database() AS db'),
    );
    expect(inA.rows[0]?.db).toBe('edge');
    const inB = await withClient(b.info, (c) =>
      c.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'only_in_a'"),
    );
    expect(inB.rowCount).toBe(0);
  });

  it('stops cleanly and removes its temporary data', async () => {
    const pg = await backend.postgres({ name: 'pg-stop-test' });
    await withClient(pg.info, (c) => c.query('SELECT 1'));
    expect(tempDirsNamed('pg-stop-test')).toHaveLength(1);
    await pg.stop();
    expect(tempDirsNamed('pg-stop-test')).toHaveLength(0);
    await pg.stop(); // idempotent
    await expect(withClient(pg.info, (c) => c.query('SELECT 1'))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('keeps data of a persistent instance across restarts', async () => {
    const name = `it-persist-${process.pid}`;
    const dir = join(localRoot, 'dev', name);
    try {
      const first = await backend.postgres({ name, persistent: true });
      await withClient(first.info, (c) => c.query('CREATE TABLE kept (v text)'));
      await first.stop();
      expect(existsSync(dir)).toBe(true);
      const second = await backend.postgres({ name, persistent: true });
      const res = await withClient(second.info, (c) =>
        c.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'kept'"),
      );
      await second.stop();
      expect(res.rowCount).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
