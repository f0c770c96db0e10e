import { describe, expect, it } from 'vitest';
import { AuthnFailure } from '../authn/authn-error';
import { parseAuthorization } from './credentials';

const opts = { maxBytes: 4096 };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function failure(values: string[]): AuthnFailure {
  try {
    parseAuthorization(values, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(AuthnFailure);
    return e as AuthnFailure;
  }
  throw new Error('expected a failure');
}

describe('parseAuthorization', () => {
  it('parses Basic key_id:secret, the secret may contain colons', () => {
    expect(parseAuthorization([`Basic ${b64('k_1:s:e:c')}`], opts)).toEqual({
      scheme: 'basic',
      keyId: 'k_1',
      secret: 's:e:c',
    });
  });

  it('accepts the scheme in any case and unpadded base64', () => {
    const unpadded = b64('key:secret1').replace(/=+$/, '');
    expect(parseAuthorization([`basic ${unpadded}`], opts)).toMatchObject({ keyId: 'key' });
    expect(parseAuthorization([`BASIC   ${b64('key:secret')}`], opts)).toMatchObject({
      secret: 'secret',
    });
  });

  it('parses Bearer tokens', () => {
    expect(parseAuthorization(['Bearer a.b-c_d.e'], opts)).toEqual({
      scheme: 'bearer',
      token: 'a.b-c_d.e',
    });
  });

  it('no header / empty header -> NoCredentials with the documented sentence', () => {
    for (const values of [[], [''], ['   ']]) {
      const f = failure(values);
      expect(f.code).toBe('NoCredentials');
      expect(f.message).toBe('NoCredentials One of identity or secret not passed');
    }
    expect(failure(['Basic']).code).toBe('NoCredentials');
    expect(failure(['Bearer ']).code).toBe('NoCredentials');
  });

  it('malformed base64 -> MalformedCredentials', () => {
    for (const bad of ['Basic !!!notbase64', 'Basic abc$def', 'Basic a', 'Basic ab=c']) {
      expect(failure([bad]).code).toBe('MalformedCredentials');
    }
  });

  it('no colon -> MalformedCredentials', () => {
    const f = failure([`Basic ${b64('keyonly')}`]);
    expect(f.code).toBe('MalformedCredentials');
    expect(f.sentence).toMatch(/key_id:secret/);
  });

  it('empty key id or empty secret -> MalformedCredentials', () => {
    expect(failure([`Basic ${b64(':secret')}`]).code).toBe('MalformedCredentials');
    expect(failure([`Basic ${b64('key:')}`]).code).toBe('MalformedCredentials');
    expect(failure([`Basic ${b64(':')}`]).code).toBe('MalformedCredentials');
  });

  it('non-UTF-8 or control characters -> MalformedCredentials', () => {
    const bytes = Buffer.from([0x6b, 0x3a, 0xff, 0xfe]).toString('base64');
    expect(failure([`Basic ${bytes}`]).code).toBe('MalformedCredentials');
    expect(failure([`Basic ${b64('key:sec\nret')}`]).code).toBe('MalformedCredentials');
  });

  it('oversized header (8 KiB) -> MalformedCredentials without echoing it', () => {
    const secret = 'x'.repeat(8 * 1024);
    const f = failure([`Basic ${b64(`key:${secret}`)}`]);
    expect(f.code).toBe('MalformedCredentials');
    expect(f.message).not.toContain('xxxx');
    expect(failure([`Bearer ${'a'.repeat(5000)}`]).code).toBe('MalformedCredentials');
  });

  it('repeated Authorization headers -> MalformedCredentials', () => {
    const v = `Basic ${b64('k:s')}`;
    expect(failure([v, v]).code).toBe('MalformedCredentials');
  });

  it('other schemes -> UnsupportedScheme', () => {
    expect(failure(['Digest username="x"']).code).toBe('UnsupportedScheme');
    expect(failure(['Token abc']).code).toBe('UnsupportedScheme');
  });

  it('bearer tokens with spaces or odd characters -> MalformedCredentials', () => {
    expect(failure(['Bearer a b']).code).toBe('MalformedCredentials');
    expect(failure(['Bearer a"b']).code).toBe('MalformedCredentials');
  });

  it('never puts the secret in the failure message', () => {
    const f = failure([`Basic ${b64('key:supersecret\u0001')}`]);
    expect(f.message).not.toContain('supersecret');
  });
});
