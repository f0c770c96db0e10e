import { mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createDataDir, type DataDir } from '../data-dir';
import { ensureOutsideRoot, userCanReach } from '../outside-root';
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

  /** `root` defaults to `<repo>/.local`; see rootFor(). */
  dataDir(kind: string, opts: PartOptions, root: string = this.localRoot): DataDir {
    if (opts.persistent && !opts.name) {
      throw new Error(`${kind}: a persistent instance needs a stable name`);
    }
    return createDataDir(root, opts.name ?? kind, opts.persistent ?? false);
  }

  private readonly roots = new Map<string, string>();
  /**
   * Where a part run as `runAs` keeps its data (data dirs, `cache/`, `dev/`): `<repo>/.local`
   * when that user can reach it, else a per-checkout folder outside the checkout (a clone
   * under a mode-700 home such as /root; see ensureOutsideRoot). Without `runAs`, `.local`.
   */
  rootFor(runAs: string | undefined): string {
    if (!runAs) return this.localRoot;
    let root = this.roots.get(runAs);
    if (root === undefined) {
      mkdirSync(this.localRoot, { recursive: true });
      root = userCanReach(this.tools.setprivBin, runAs, this.localRoot)
        ? this.localRoot
        : ensureOutsideRoot(this.localRoot);
      this.roots.set(runAs, root);
    }
    return root;
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
