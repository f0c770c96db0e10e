// RFC 9110 field syntax: a name is a token (section 5.1); a value is field-content (VCHAR /
// obs-text with inner SP / HTAB) without leading or trailing whitespace (section 5.5). The same
// rules as the Wasm filter (packages/header-filter-wasm/assembly/headers.ts), which re-checks.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE =
  // eslint-disable-next-line no-control-regex
  /^(?:[\x21-\x7e\x80-\xff](?:[\x20\x09\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;

export const MAX_NAME_BYTES = 256;
export const MAX_VALUE_BYTES = 8192;

/** Connection-level and framing fields: the proxy's, never a provider's. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Undefined when `name` may be served, else why not. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name.length > MAX_NAME_BYTES) return `name longer than ${MAX_NAME_BYTES} bytes`;
  if (!TOKEN.test(name)) return 'name is not an RFC 9110 token';
  if (RESERVED_NAMES.has(name.toLowerCase())) return 'reserved name';
  return undefined;
}

/**
 * Undefined when `value` may be served, else why not. Values are strings of bytes: a character
 * above U+00FF cannot be sent as one header byte and is refused.
 */
export function valueProblem(value: string): string | undefined {
  if (Buffer.byteLength(value, 'latin1') > MAX_VALUE_BYTES) {
    return `value longer than ${MAX_VALUE_BYTES} bytes`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\xff]/.test(value)) return 'value has a character outside ISO-8859-1';
  if (!FIELD_VALUE.test(value)) {
    return /^[ \t]|[ \t]$/.test(value)
      ? 'value has leading or trailing whitespace'
      : 'value has a control character';
  }
  return undefined;
}
