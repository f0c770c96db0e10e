import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect } from '../net';
import { waitUntilReady } from '../process';
import type { NodeServiceInfo, NodeServiceOptions, Started } from '../types';

export type { NodeServiceInfo, NodeServiceOptions } from '../types';
import { LocalContext, startedWhenReady } from './instance';

/**
 * Runs one of the project's built services as a real child process (the same `node dist/main.js`
 * a deployment runs), logs to a file in its own data dir, waits for readiness and stops it with
 * SIGTERM (SIGKILL after 10 s). End-to-end tests and benchmarks use it.
 */
export async function startNodeService(
  opts: NodeServiceOptions,
): Promise<Started<NodeServiceInfo>> {
  if (!existsSync(opts.entry)) {
    throw new Error(`${opts.name}: ${opts.entry} does not exist; build it first (turbo run build)`);
  }
  const ctx = LocalContext.load();
  const dir = ctx.dataDir(opts.name, { name: opts.name });
  const logFile = join(dir.path, `${opts.name}.log`);
  const proc = ctx.spawn({
    label: ctx.label(opts.name, dir),
    command: process.execPath,
    args: ['--enable-source-maps', opts.entry],
    logFile,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      NODE_ENV: 'test',
      ...opts.env,
    },
  });
  const info: NodeServiceInfo = { name: opts.name, pid: proc.pid, logFile };
  return startedWhenReady(info, proc, dir, () =>
    waitUntilReady(proc, 'ready', () => nodeServiceReady(opts), opts.startTimeoutMs ?? 30_000),
  );
}

/**
 * A project app is ready when each of its `readyPorts` accepts connections and its `readyUrl`
 * (if any) answers below 500. Both backends use it.
 */
export async function nodeServiceReady(
  opts: Pick<NodeServiceOptions, 'readyPorts' | 'readyUrl'>,
): Promise<boolean> {
  for (const port of opts.readyPorts ?? []) {
    if (!(await canConnect(port))) return false;
  }
  if (opts.readyUrl) {
    const res = await fetch(opts.readyUrl, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status < 500;
  }
  return true;
}
