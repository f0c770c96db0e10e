import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from './pid';

export interface DataDir {
  path: string;
  persistent: boolean;
}

const NAME_RE = /^[a-z0-9][a-z0-9_.-]*$/i;
/** `<name>-<pid>-<8 hex>`: the shape of a temporary data dir. */
const TEMP_DIR_RE = /^(.+)-(\d+)-([0-9a-f]{8})$/;

/** Where a part keeps its data: `.local/dev/<name>` if persistent, else a fresh temp dir name. */
export function dataDirPath(
  localRoot: string,
  name: string,
  persistent: boolean,
  pid: number = process.pid,
  random: string = randomBytes(4).toString('hex'),
): string {
  if (!NAME_RE.test(name)) {
    throw new Error(`invalid instance name ${JSON.stringify(name)}: use letters, digits, . _ -`);
  }
  return persistent ? join(localRoot, 'dev', name) : join(localRoot, `${name}-${pid}-${random}`);
}

/** The pid a temporary data dir belongs to, or undefined for other entries. */
export function ownerPid(entry: string): number | undefined {
  const m = TEMP_DIR_RE.exec(entry);
  return m ? Number(m[2]) : undefined;
}

const swept = new Set<string>();
/** Removes temp data dirs left by test processes that died without cleaning up (once per root and process). */
function sweepOrphans(localRoot: string): void {
  if (swept.has(localRoot)) return;
  swept.add(localRoot);
  let entries: string[];
  try {
    entries = readdirSync(localRoot);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = ownerPid(entry);
    if (pid !== undefined && pid !== process.pid && !pidAlive(pid)) {
      rmSync(join(localRoot, entry), { recursive: true, force: true });
    }
  }
}

export function createDataDir(localRoot: string, name: string, persistent: boolean): DataDir {
  sweepOrphans(localRoot);
  const path = dataDirPath(localRoot, name, persistent);
  mkdirSync(path, { recursive: true });
  return { path, persistent };
}
