import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createDataDir, type DataDir } from '../data-dir';
import { ManagedProcess, onExitSync, type ProcessSpec } from '../process';
import { findRepoRoot, loadToolPaths, type ToolPaths } from '../tool-paths';
import type { PartOptions, Started } from '../types';

/** What every local part needs: resolved tool paths, a data dir, a way to start processes. */
export class LocalContext {
  constructor(
    readonly tools: ToolPaths,
    readonly localRoot: string,
  ) {}

  /** Templates reused across instances (see ensureTemplate). */
  get cacheRoot(): string {
    return join(this.localRoot, 'cache');
  }

  static load(): LocalContext {
    const repoRoot = findRepoRoot();
    return new LocalContext(loadToolPaths(repoRoot), join(repoRoot, '.local'));
  }

  dataDir(kind: string, opts: PartOptions): DataDir {
    if (opts.persistent && !opts.name) {
      throw new Error(`${kind}: a persistent instance needs a stable name`);
    }
    return createDataDir(this.localRoot, opts.name ?? kind, opts.persistent ?? false);
  }

  label(kind: string, dir: DataDir): string {
    const rel = relative(process.cwd(), dir.path);
    return `${kind} (${rel && !rel.startsWith('..') ? rel : dir.path})`;
  }

  spawn(spec: ProcessSpec): ManagedProcess {
    return ManagedProcess.start(this.tools.setprivBin, spec);
  }
}

/**
 * Waits for `ready`, then wraps the process as `Started<T>`: stop() stops the process and
 * removes a temporary data dir (also removed at process exit if stop() was never called).
 * If readiness fails the process is stopped and the dir kept for a look (the error already
 * carries the log tail; a later run sweeps dirs of dead test processes).
 */
export async function startedWhenReady<T>(
  info: T,
  proc: ManagedProcess,
  dir: DataDir,
  ready: () => Promise<void>,
): Promise<Started<T>> {
  try {
    await ready();
  } catch (err) {
    await proc.stop().catch(() => undefined);
    throw err;
  }
  const removeDir = (): void => {
    if (!dir.persistent) rmSync(dir.path, { recursive: true, force: true });
  };
  const unregister = onExitSync(removeDir);
  let stopping: Promise<void> | undefined;
  return {
    info,
    stop: () => {
      stopping ??= (async () => {
        await proc.stop();
        removeDir();
        unregister();
      })();
      return stopping;
    },
  };
}
