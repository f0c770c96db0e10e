import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { LOOPBACK, canConnect, freePort } from '../net';
import { waitUntilReady } from '../process';
import type { EnvoyInfo, EnvoyOptions, Started } from '../types';
import { startedWhenReady, type LocalContext } from './instance';

/**
 * Envoy command line. The admin block is merged over the caller's config with --config-yaml,
 * so configs need not know the admin port. --base-id is unique per instance and hot restart is
 * off: parallel Envoys never share (or leak) /dev/shm segments.
 */
export function envoyArgs(opts: {
  configFile: string;
  adminPort: number;
  logFile: string;
  baseId: number;
  logLevel: string;
  concurrency: number;
}): string[] {
  const admin = {
    admin: { address: { socket_address: { address: LOOPBACK, port_value: opts.adminPort } } },
  };
  return [
    '-c',
    opts.configFile,
    '--config-yaml',
    JSON.stringify(admin),
    '--base-id',
    String(opts.baseId),
    '--disable-hot-restart',
    '--log-path',
    opts.logFile,
    '-l',
    opts.logLevel,
    '--concurrency',
    String(opts.concurrency),
  ];
}

/** GET http://127.0.0.1:port/path → { status, body }. */
export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: LOOPBACK, port, path, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export async function startEnvoy(
  ctx: LocalContext,
  opts: EnvoyOptions,
): Promise<Started<EnvoyInfo>> {
  const dir = ctx.dataDir('envoy', { ...opts, persistent: false });
  const adminPort = opts.adminPort ?? (await freePort());
  if ((opts.configYaml === undefined) === (opts.configProto === undefined)) {
    throw new Error('startEnvoy: give exactly one of configYaml and configProto');
  }
  // Envoy reads a config file by its extension: .pb is a binary Bootstrap.
  const configFile = join(dir.path, opts.configProto === undefined ? 'envoy.yaml' : 'envoy.pb');
  const envoyLog = join(dir.path, 'envoy.log');
  const stdoutLogFile = join(dir.path, 'envoy.stdout.log');
  writeFileSync(configFile, opts.configProto ?? opts.configYaml ?? '');
  const proc = ctx.spawn({
    label: ctx.label('envoy', dir),
    command: ctx.tools.envoyBin,
    args: envoyArgs({
      configFile,
      adminPort,
      logFile: envoyLog,
      baseId: randomInt(1, 2 ** 30),
      logLevel: opts.logLevel ?? 'warn',
      concurrency: opts.concurrency ?? 1,
    }),
    logFile: stdoutLogFile,
    extraLogFiles: [envoyLog],
  });
  const readyPorts = opts.readyPorts ?? [];
  const info: EnvoyInfo = { host: LOOPBACK, adminPort, stdoutLogFile };
  return startedWhenReady(info, proc, dir, () =>
    waitUntilReady(
      proc,
      `LIVE on admin /ready${readyPorts.length ? ` with listeners ${readyPorts.join(', ')}` : ''}`,
      async () => {
        const res = await httpGet(adminPort, '/ready');
        if (res.status !== 200 || res.body.trim() !== 'LIVE') return false;
        const up = await Promise.all(readyPorts.map((p) => canConnect(p)));
        return up.every(Boolean);
      },
      opts.startTimeoutMs ?? 15_000,
      25,
    ),
  );
}
