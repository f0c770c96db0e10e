import { isWellFormedKeyId } from './key-secrets';

/** A position in the (created_at, key_id) order of `GET /keys`. */
export interface KeyCursor {
  createdAt: Date;
  keyId: string;
}

/** Opaque to clients: base64url of `{"t": <ISO created_at>, "k": <key_id>}`. */
export function encodeKeyCursor(c: KeyCursor): string {
  return Buffer.from(JSON.stringify({ t: c.createdAt.toISOString(), k: c.keyId })).toString(
    'base64url',
  );
}

const BASE64URL = /^[A-Za-z0-9_-]{1,256}$/;

/** The position a cursor names; undefined for anything we did not hand out. */
export function decodeKeyCursor(s: string): KeyCursor | undefined {
  if (!BASE64URL.test(s)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const { t, k } = v as { t?: unknown; k?: unknown };
    if (typeof t !== 'string' || typeof k !== 'string' || !isWellFormedKeyId(k)) return undefined;
    const createdAt = new Date(t);
    if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== t) return undefined;
    return { createdAt, keyId: k };
  } catch {
    return undefined;
  }
}
