// A checkout under a folder only root may enter (e.g. `git clone` into /root/x, mode 700): when
// we are root, PostgreSQL runs as the `postgres` user, which cannot reach `<checkout>/.local`.
// The instance must still start, with its data in a per-checkout folder outside the checkout,
// and leave nothing behind when stopped.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadToolPaths } from '../src';
import { LocalContext } from '../src/local/instance';
import { startPostgres } from '../src/local/postgres';
import { outsideRootPath, userCanReach } from '../src/outside-root';

describe('postgres from a checkout under a mode-700 folder', () => {
  const parent = mkdtempSync(join(tmpdir(), 'edge-700-'));
  chmodSync(parent, 0o700);
  const localRoot = join(parent, 'clone', '.local');
  mkdirSync(localRoot, { recursive: true });
  const tools = loadToolPaths();
  afterAll(() => {
    rmSync(parent, { recursive: true, force: true });
  });

  it('starts, serves queries, and stops without leftovers', async () => {
    const ctx = new LocalContext(tools, localRoot);
    const pg = await startPostgres(ctx, { name: 'pg-700' });
    try {
      const client = new Client({ connectionString: pg.info.url });
      await client.connect();
      try {
        expect((await client.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
      } finally {
        await client.end();
      }
    } finally {
      await pg.stop();
    }
    const mine = (dir: string) =>
      existsSync(dir) ? readdirSync(dir).filter((e) => e.startsWith(`pg-700-${process.pid}-`)) : [];
    expect(mine(localRoot)).toEqual([]);
    if (tools.pgRunAsUser) {
      // Running as root: the unprivileged user cannot enter the checkout, so the data went outside.
      expect(userCanReach(tools.setprivBin, tools.pgRunAsUser, localRoot)).toBe(false);
      const outside = outsideRootPath(realpathSync(localRoot));
      expect(existsSync(join(outside, 'cache'))).toBe(true);
      expect(mine(outside)).toEqual([]);
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
