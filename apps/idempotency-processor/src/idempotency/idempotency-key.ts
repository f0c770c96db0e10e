import { parseItem } from 'structured-headers';

/** The request header (draft-ietf-httpapi-idempotency-key-header). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Longest key accepted, in characters (the value between the quotes). */
export const MAX_KEY_LENGTH = 255;

export type KeyParse =
  | { ok: true; key: string }
  | { ok: false; reason: 'multiple' | 'not-a-string' | 'empty' | 'too-long' | 'malformed' };

/**
 * Reads the Idempotency-Key field value: an RFC 8941 Item whose bare item is an sf-string
 * (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`), 1 to 255 characters. Parameters are allowed by
 * RFC 8941 and ignored. Never throws.
 */
export function parseIdempotencyKey(values: readonly string[]): KeyParse {
  if (values.length > 1) return { ok: false, reason: 'multiple' };
  const raw = values[0] ?? '';
  if (raw.length > MAX_KEY_LENGTH * 2 + 16) return { ok: false, reason: 'too-long' };
  let value: unknown;
  try {
    // The library's BareItem type names DOM's BufferSource (not in this lib): read it as unknown.
    const item = parseItem(raw) as unknown as readonly unknown[];
    value = item[0];
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof value !== 'string') return { ok: false, reason: 'not-a-string' };
  if (value.length === 0) return { ok: false, reason: 'empty' };
  if (value.length > MAX_KEY_LENGTH) return { ok: false, reason: 'too-long' };
  return { ok: true, key: value };
}
