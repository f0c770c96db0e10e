import { describe, expect, it } from 'vitest';
import { decodeKeyCursor, encodeKeyCursor } from './key-cursor';

const KEY = 'ak_' + 'a'.repeat(32);

describe('key cursor', () => {
  it('round-trips a position and is opaque (base64url)', () => {
    const c = { createdAt: new Date('2030-01-01T00:00:00.123Z'), keyId: KEY };
    const s = encodeKeyCursor(c);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeKeyCursor(s)).toEqual(c);
  });

  it('refuses anything it did not hand out', () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of [
      '',
      'not base64!',
      'x'.repeat(300),
      Buffer.from('{"t":').toString('base64url'),
      enc(null),
      enc([1]),
      enc({ t: 'yesterday', k: KEY }),
      enc({ t: '2030-01-01T00:00:00.000Z', k: "ak_' OR 1=1 --" }),
      enc({ t: '2030-01-01T00:00:00.000Z' }),
      enc({ t: '2030-01-01', k: KEY }),
    ]) {
      expect(decodeKeyCursor(bad), bad).toBeUndefined();
    }
  });
});
