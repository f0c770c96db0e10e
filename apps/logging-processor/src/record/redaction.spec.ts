import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_FIELDS, DEFAULT_REDACT_HEADERS } from '../config/logging-processor.config';
import { REDACTED, Redactor } from './redaction';

const r = new Redactor(DEFAULT_REDACT_HEADERS.split(','), DEFAULT_REDACT_FIELDS.split(','));

describe('Redactor', () => {
  it('redacts credential headers whatever their case', () => {
    for (const h of ['Authorization', 'COOKIE', 'set-cookie', 'Proxy-Authorization', 'X-Api-Key']) {
      expect(r.headerValue(h, 'Basic c2VjcmV0')).toBe(REDACTED);
    }
    expect(r.headerValue('user-agent', 'curl/8')).toBe('curl/8');
  });

  it('redacts secret query parameters, also percent-encoded names, and keeps the rest byte for byte', () => {
    expect(r.query('a=1&token=abc&b=%20x&API%5FKEY=zzz&password')).toBe(
      `a=1&token=${REDACTED}&b=%20x&API%5FKEY=${REDACTED}&password=${REDACTED}`,
    );
    expect(r.query('q=hello')).toBe('q=hello');
    expect(r.query('')).toBe('');
    // a malformed escape in a name is compared raw, never throws
    expect(r.query('%E0%A4%A=1&secret=s')).toBe(`%E0%A4%A=1&secret=${REDACTED}`);
  });

  it('redacts JSON fields at any depth, in arrays too', () => {
    const body = Buffer.from(
      JSON.stringify({
        user: 'a',
        password: 'p1',
        nested: { Token: 't', list: [{ secret: 's' }] },
      }),
    );
    const out = JSON.parse(r.body(body, 'application/json').toString()) as Record<string, unknown>;
    expect(out).toEqual({
      user: 'a',
      password: REDACTED,
      nested: { Token: REDACTED, list: [{ secret: REDACTED }] },
    });
  });

  it('replaces a non-JSON (or cut) body that mentions a secret field name as a whole', () => {
    const cut = Buffer.from('{"password":"hunter2","x":');
    expect(r.body(cut, 'application/json').toString()).toBe(REDACTED);
    expect(r.body(Buffer.from('plain text'), 'text/plain').toString()).toBe('plain text');
  });

  it('redacts form bodies like a query string', () => {
    expect(
      r.body(Buffer.from('user=a&password=b'), 'application/x-www-form-urlencoded').toString(),
    ).toBe(`user=a&password=${REDACTED}`);
  });
});
