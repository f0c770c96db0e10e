// RFC 9110 field syntax: names are tokens (section 5.1), values are field-content without
// leading/trailing whitespace (section 5.5). A few names are never the provider's to set.

/** tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
function isTchar(c: u8): bool {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  return (
    c == 0x21 ||
    c == 0x23 ||
    c == 0x24 ||
    c == 0x25 ||
    c == 0x26 ||
    c == 0x27 ||
    c == 0x2a ||
    c == 0x2b ||
    c == 0x2d ||
    c == 0x2e ||
    c == 0x5e ||
    c == 0x5f ||
    c == 0x60 ||
    c == 0x7c ||
    c == 0x7e
  );
}

export const MAX_NAME_BYTES: i32 = 256;
export const MAX_VALUE_BYTES: i32 = 8192;

/** Connection-level and framing fields: set by the proxy, never by a provider. */
const RESERVED: string[] = [
  'connection',
  'content-length',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** '' when the name is acceptable, else why not. */
export function nameProblem(name: ArrayBuffer): string {
  const n = name.byteLength;
  if (n == 0) return 'empty name';
  if (n > MAX_NAME_BYTES) return 'name longer than ' + MAX_NAME_BYTES.toString() + ' bytes';
  const p = changetype<usize>(name);
  for (let i = 0; i < n; i++) {
    if (!isTchar(load<u8>(p + <usize>i))) return 'name is not an RFC 9110 token';
  }
  const lower = String.UTF8.decode(name).toLowerCase();
  if (RESERVED.includes(lower)) return 'reserved name';
  return '';
}

/** '' when the value is acceptable: VCHAR / obs-text, inner SP / HTAB, no surrounding blanks. */
export function valueProblem(value: ArrayBuffer): string {
  const n = value.byteLength;
  if (n > MAX_VALUE_BYTES) return 'value longer than ' + MAX_VALUE_BYTES.toString() + ' bytes';
  const p = changetype<usize>(value);
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    const blank = c == 0x20 || c == 0x09;
    if (blank && (i == 0 || i == n - 1)) return 'value has leading or trailing whitespace';
    if (!blank && (c < 0x21 || c == 0x7f)) return 'value has a control character';
  }
  return '';
}

/** ASCII lower-case copy (names are case-insensitive; HTTP/2 wants lower case). */
export function lowerAscii(name: ArrayBuffer): ArrayBuffer {
  const out = name.slice(0);
  const p = changetype<usize>(out);
  for (let i = 0; i < out.byteLength; i++) {
    const c = load<u8>(p + <usize>i);
    if (c >= 0x41 && c <= 0x5a) store<u8>(p + <usize>i, c | 0x20);
  }
  return out;
}
