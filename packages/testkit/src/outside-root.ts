import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** Can `user` reach (traverse every folder down to) `dir`? Runs `test -x dir` as that user. */
export function userCanReach(setprivBin: string, user: string, dir: string): boolean {
  const r = spawnSync(
    setprivBin,
    [`--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', 'test', '-x', dir],
    { cwd: '/', stdio: 'ignore' },
  );
  return r.status === 0;
}

/** Where the per-checkout folder outside the checkout goes: /var/tmp survives reboots. */
export function outsideBase(): string {
  return existsSync('/var/tmp') ? '/var/tmp' : '/tmp';
}

/** `<base>/edge-local-<hash of the checkout's .local path>`: one per checkout, stable. */
export function outsideRootPath(localRoot: string, base: string = outsideBase()): string {
  const key = createHash('sha256').update(localRoot).digest('hex').slice(0, 16);
  return join(base, `edge-local-${key}`);
}

/**
 * A per-checkout folder outside the checkout, for data of parts that run as another user
 * (PostgreSQL refuses to run as root) when that user cannot reach `<checkout>/.local` (a clone
 * under a mode-700 home). Owned by us, mode 0711: others may traverse it to the folders we hand
 * them, not list it. It lives in a world-writable place, so an existing entry is used only if
 * it is a real folder owned by us and writable by nobody else (no symlink tricks). A link
 * `<checkout>/.local/outside` points at it, and a `checkout` file in it names the checkout.
 */
export function ensureOutsideRoot(localRoot: string): string {
  mkdirSync(localRoot, { recursive: true });
  const real = realpathSync(localRoot);
  const dir = outsideRootPath(real);
  if (!existsSync(dir)) mkdirSync(dir, { mode: 0o711 });
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? st.uid;
  if (!st.isDirectory() || st.isSymbolicLink() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(
      `${dir} exists but is not a folder owned by uid ${uid} and writable only by it: remove it`,
    );
  }
  chmodSync(dir, 0o711);
  writeFileSync(join(dir, 'checkout'), `${real}\n`);
  const link = join(localRoot, 'outside');
  if (!existsSync(link)) {
    try {
      symlinkSync(dir, link);
    } catch {
      // a convenience only
    }
  }
  return dir;
}
