import { join } from 'node:path';
import { LOOPBACK, freePort, tcpExchange } from '../net';
import { waitUntilReady } from '../process';
import type { PartOptions, RedisInfo, Started } from '../types';
import { startedWhenReady, type LocalContext } from './instance';

/** `redis-server` arguments: loopback only; a temporary instance never writes to disk. */
export function redisArgs(opts: { port: number; dir: string; persistent: boolean }): string[] {
  const args = [
    '--port',
    String(opts.port),
    '--bind',
    LOOPBACK,
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    '--dir',
    opts.dir,
    '--logfile',
    '', // stdout, which goes to the log file
  ];
  if (opts.persistent) {
    args.push('--save', '60 1', '--appendonly', 'yes');
  } else {
    args.push('--save', '', '--appendonly', 'no');
  }
  return args;
}

export async function startRedis(
  ctx: LocalContext,
  opts: PartOptions = {},
): Promise<Started<RedisInfo>> {
  const dir = ctx.dataDir('redis', opts);
  const port = opts.port ?? (await freePort());
  const proc = ctx.spawn({
    label: ctx.label('redis', dir),
    command: ctx.tools.redisServerBin,
    args: redisArgs({ port, dir: dir.path, persistent: dir.persistent }),
    logFile: join(dir.path, 'redis.log'),
  });
  const info: RedisInfo = { host: LOOPBACK, port, url: `redis://${LOOPBACK}:${port}` };
  return startedWhenReady(info, proc, dir, () =>
    waitUntilReady(
      proc,
      'answering PING',
      async () => (await tcpExchange(port, 'PING\r\n')).startsWith('+PONG'),
      opts.startTimeoutMs ?? 15_000,
      20,
    ),
  );
}
