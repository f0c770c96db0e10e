import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A directory built once and reused as the starting point of new instances (an initdb'd
 * cluster, a formatted KRaft log dir): `<cacheRoot>/<key>`. Built in a temp dir and renamed
 * into place, so concurrent test processes never see a half-built template.
 */
export async function ensureTemplate(
  cacheRoot: string,
  key: string,
  build: (dir: string) => Promise<void>,
): Promise<string> {
  const final = join(cacheRoot, key);
  if (existsSync(final)) return final;
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = join(cacheRoot, `.${key}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    await build(tmp);
    try {
      renameSync(tmp, final);
    } catch (err) {
      // Another process won the race: use its template.
      if (!existsSync(final)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return final;
}
