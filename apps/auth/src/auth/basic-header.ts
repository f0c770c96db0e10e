export type BasicCredentials =
  | { ok: true; id: string; secret: string }
  | { ok: false; reason: 'MalformedBase64' | 'NoColon' | 'NoCredentials' };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The scheme of an Authorization header, lower-cased, and the rest; undefined when absent. */
export function splitAuthorization(
  header: string | undefined,
): { scheme: string; value: string } | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '') return undefined;
  const space = trimmed.indexOf(' ');
  if (space < 0) return { scheme: trimmed.toLowerCase(), value: '' };
  return { scheme: trimmed.slice(0, space).toLowerCase(), value: trimmed.slice(space + 1).trim() };
}

/** Strict parse of an HTTP Basic credential (the part after `Basic `). */
export function parseBasic(value: string): BasicCredentials {
  if (value.length === 0) return { ok: false, reason: 'NoCredentials' };
  if (value.length % 4 !== 0 || !BASE64.test(value))
    return { ok: false, reason: 'MalformedBase64' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, reason: 'NoColon' };
  const id = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (id === '' || secret === '') return { ok: false, reason: 'NoCredentials' };
  return { ok: true, id, secret };
}
