import { AuthnFailure } from '../authn/authn-error';

export interface BasicCredentials {
  readonly scheme: 'basic';
  readonly keyId: string;
  readonly secret: string;
}

export interface BearerCredentials {
  readonly scheme: 'bearer';
  readonly token: string;
}

export type Credentials = BasicCredentials | BearerCredentials;

export interface ParseOptions {
  /** Longest Authorization header accepted, in bytes (UTF-8). */
  readonly maxBytes: number;
}

/** RFC 4648 base64, padding optional (some clients drop it); nothing else is tolerated. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
/** RFC 6750 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Key ids and secrets are printable ASCII without spaces; anything else is malformed. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(sentence: string, scheme: 'basic' | 'bearer' | 'none'): AuthnFailure {
  return new AuthnFailure('MalformedCredentials', sentence, scheme);
}

/**
 * Parses the Authorization header values of one request (all of them: a repeated header is
 * refused). Throws AuthnFailure (401) for anything but exactly one well-formed Basic or Bearer
 * credential. Error sentences never include the header's value.
 */
export function parseAuthorization(values: readonly string[], opts: ParseOptions): Credentials {
  if (values.length === 0) {
    throw new AuthnFailure('NoCredentials', 'One of identity or secret not passed', 'none');
  }
  if (values.length > 1) {
    throw malformed('More than one Authorization header', 'none');
  }
  const header = values[0] ?? '';
  if (Buffer.byteLength(header, 'utf8') > opts.maxBytes) {
    throw malformed(`Authorization header longer than ${opts.maxBytes} bytes`, 'none');
  }
  const trimmed = header.trim();
  if (trimmed.length === 0) {
    throw new AuthnFailure('NoCredentials', 'One of identity or secret not passed', 'none');
  }
  const space = trimmed.search(/[ \t]/);
  const scheme = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const rest = space === -1 ? '' : trimmed.slice(space + 1).trim();
  switch (scheme) {
    case 'basic':
      return parseBasic(rest);
    case 'bearer':
      return parseBearer(rest);
    default:
      throw new AuthnFailure(
        'UnsupportedScheme',
        'Authorization scheme must be Basic or Bearer',
        'none',
      );
  }
}

function parseBasic(encoded: string): BasicCredentials {
  if (encoded.length === 0) {
    throw new AuthnFailure('NoCredentials', 'One of identity or secret not passed', 'basic');
  }
  if (!BASE64.test(encoded)) throw malformed('Basic credentials are not valid base64', 'basic');
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw malformed('Basic credentials are not valid UTF-8', 'basic');
  }
  // RFC 7617: the user-id cannot contain a colon; the password may.
  const colon = decoded.indexOf(':');
  if (colon === -1) throw malformed('Basic credentials must be key_id:secret', 'basic');
  const keyId = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (keyId.length === 0 || secret.length === 0) {
    throw malformed('Key id and secret must both be non-empty', 'basic');
  }
  if (!VISIBLE_ASCII.test(keyId) || !VISIBLE_ASCII.test(secret)) {
    throw malformed('Key id and secret must be printable ASCII', 'basic');
  }
  return { scheme: 'basic', keyId, secret };
}

function parseBearer(token: string): BearerCredentials {
  if (token.length === 0) {
    throw new AuthnFailure('NoCredentials', 'Bearer token not passed', 'bearer');
  }
  if (!B64TOKEN.test(token)) throw malformed('Bearer token has invalid characters', 'bearer');
  return { scheme: 'bearer', token };
}
