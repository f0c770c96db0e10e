import { createHash } from 'node:crypto';

/**
 * Request headers that change what a body means: the same bytes under another content type or
 * encoding are another request. Values are compared as sent (trimmed, lower-cased).
 */
export const FINGERPRINT_HEADERS = ['content-type', 'content-encoding'] as const;

/**
 * SHA-256 (hex) of the headers that change meaning and of the request body. Each header is
 * length-prefixed so no two different inputs hash the same bytes.
 */
export function requestFingerprint(
  header: (name: string) => string | undefined,
  body: Buffer,
): string {
  const h = createHash('sha256');
  for (const name of FINGERPRINT_HEADERS) {
    const v = (header(name) ?? '').trim().toLowerCase();
    h.update(`${name}:${Buffer.byteLength(v)}:${v}\n`);
  }
  h.update(`body:${body.length}:`);
  h.update(body);
  return h.digest('hex');
}

/**
 * The Redis key of one entry: tenant, method, path (with its query) and key, hashed so the key
 * a client chose never appears in Redis key space as such and any byte in it is harmless.
 */
export function entryKey(
  prefix: string,
  scope: { tenant: string; method: string; path: string; key: string },
): string {
  const h = createHash('sha256');
  for (const part of [scope.tenant, scope.method, scope.path, scope.key]) {
    h.update(`${Buffer.byteLength(part)}:${part}\n`);
  }
  return prefix + h.digest('hex');
}
