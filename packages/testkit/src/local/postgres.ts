import { chownSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { LOOPBACK, freePort } from '../net';
import { runToCompletion, waitUntilReady } from '../process';
import { ensureTemplate } from '../template';
import type { PostgresInfo, PostgresOptions, Started } from '../types';
import { startedWhenReady, type LocalContext } from './instance';

const USER = 'postgres';
const PASSWORD = 'postgres';
/** Unix socket paths are limited to 107 bytes; `/.s.PGSQL.NNNNN` takes 16. */
const MAX_SOCKET_DIR = 90;

/** `postgres` server arguments. Durability is traded for speed unless the instance persists. */
export function postgresArgs(opts: {
  pgdata: string;
  port: number;
  persistent: boolean;
}): string[] {
  const socketDir = opts.pgdata.length <= MAX_SOCKET_DIR ? opts.pgdata : '';
  const args = [
    '-D',
    opts.pgdata,
    '-p',
    String(opts.port),
    '-c',
    `listen_addresses=${LOOPBACK}`,
    '-c',
    `unix_socket_directories=${socketDir}`,
    '-c',
    'max_connections=100',
  ];
  if (!opts.persistent) {
    args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  return args;
}

export function postgresUrl(info: Omit<PostgresInfo, 'url'>): string {
  const auth = `${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}`;
  return `postgres://${auth}@${info.host}:${info.port}/${encodeURIComponent(info.database)}`;
}

function uidGid(user: string): { uid: number; gid: number } {
  // /etc/passwd: name:x:uid:gid:...
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  const parts = (line ?? '').split(':');
  if (parts.length < 4) throw new Error(`user ${user} not found in /etc/passwd`);
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}

/** One query on a fresh connection (readiness checks; the testcontainers backend uses it too). */
export async function pgQuery(
  info: Pick<PostgresInfo, 'port' | 'user' | 'password' | 'database'> & { host?: string },
  sql: string,
  params: unknown[] = [],
) {
  const { host = LOOPBACK, port, user, password, database } = info;
  const client = new Client({ host, port, user, password, database });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

function query(port: number, database: string, sql: string, params: unknown[] = []) {
  return pgQuery({ port, user: USER, password: PASSWORD, database }, sql, params);
}

export async function startPostgres(
  ctx: LocalContext,
  opts: PostgresOptions = {},
): Promise<Started<PostgresInfo>> {
  const runAs = ctx.tools.pgRunAsUser || undefined;
  // postgres refuses to run as root: as root it runs as an unprivileged user, who must reach
  // its data dir. In a checkout that user cannot reach (a clone under a mode-700 home), the
  // data, the initdb template and the socket live in a per-checkout folder outside it.
  const root = ctx.rootFor(runAs);
  const dir = ctx.dataDir('postgres', opts, root);
  const label = ctx.label('postgres', dir);
  const pgdata = join(dir.path, 'pgdata');
  const logFile = join(dir.path, 'postgres.log');
  if (runAs) {
    const { uid, gid } = uidGid(runAs);
    chownSync(dir.path, uid, gid);
    await runToCompletion(ctx.tools.setprivBin, {
      label: `${label}: user ${runAs} cannot write ${dir.path}`,
      command: 'test',
      args: ['-w', dir.path],
      logFile,
      runAs,
      cwd: dir.path,
    });
  }
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    // initdb once per PostgreSQL version, then copy: saves ~0.7 s per instance.
    const version = ctx.tools.versions.postgres || 'unknown';
    const template = await ensureTemplate(
      join(root, 'cache'),
      `postgres-${version}`,
      async (tmp) => {
        if (runAs) chownSync(tmp, uidGid(runAs).uid, uidGid(runAs).gid);
        await runToCompletion(ctx.tools.setprivBin, {
          label: `${label} initdb`,
          command: join(ctx.tools.pgBinDir, 'initdb'),
          args: [
            '-D',
            join(tmp, 'pgdata'),
            '-U',
            USER,
            '-A',
            'trust',
            '-E',
            'UTF8',
            '--locale=C',
            '--no-sync',
          ],
          logFile,
          runAs,
          // initdb resolves its working directory: it must be one the user can reach.
          cwd: tmp,
        });
      },
    );
    // cp -a keeps owner and the 0700 mode postgres insists on.
    await runToCompletion(ctx.tools.setprivBin, {
      label: `${label} copy template`,
      command: 'cp',
      args: ['-a', join(template, 'pgdata'), pgdata],
      logFile,
    });
  }
  const port = opts.port ?? (await freePort());
  const database = opts.database ?? 'edge';
  const proc = ctx.spawn({
    label,
    command: join(ctx.tools.pgBinDir, 'postgres'),
    args: postgresArgs({ pgdata, port, persistent: dir.persistent }),
    logFile,
    runAs,
    cwd: dir.path,
    stopSignal: 'SIGINT', // "fast" shutdown: does not wait for clients to disconnect
  });
  const info: PostgresInfo = {
    host: LOOPBACK,
    port,
    user: USER,
    password: PASSWORD,
    database,
    url: postgresUrl({ host: LOOPBACK, port, user: USER, password: PASSWORD, database }),
  };
  return startedWhenReady(info, proc, dir, async () => {
    await waitUntilReady(
      proc,
      'accepting connections',
      async () => (await query(port, 'postgres', 'SELECT 1')).rowCount === 1,
      opts.startTimeoutMs ?? 30_000,
    );
    const exists = await query(port, 'postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [
      database,
    ]);
    if (exists.rowCount === 0) {
      await query(port, 'postgres', `CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    }
  });
}
