import { describe, expect, it } from 'vitest';
import { entryKey, requestFingerprint } from './fingerprint';

const headers = (h: Record<string, string>) => (n: string) => h[n];

describe('requestFingerprint', () => {
  it('is stable for the same body and content type (case and spaces aside)', () => {
    const a = requestFingerprint(
      headers({ 'content-type': 'application/json' }),
      Buffer.from('{}'),
    );
    const b = requestFingerprint(
      headers({ 'content-type': ' Application/JSON ' }),
      Buffer.from('{}'),
    );
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with the body, the content type or the encoding', () => {
    const base = requestFingerprint(headers({ 'content-type': 'text/plain' }), Buffer.from('x'));
    expect(
      requestFingerprint(headers({ 'content-type': 'text/plain' }), Buffer.from('y')),
    ).not.toBe(base);
    expect(
      requestFingerprint(headers({ 'content-type': 'application/json' }), Buffer.from('x')),
    ).not.toBe(base);
    expect(
      requestFingerprint(
        headers({ 'content-type': 'text/plain', 'content-encoding': 'gzip' }),
        Buffer.from('x'),
      ),
    ).not.toBe(base);
  });
});

describe('entryKey', () => {
  const scope = { tenant: 't1', method: 'POST', path: '/a', key: 'k' };
  it('separates tenants, methods, paths and keys', () => {
    const k = entryKey('p:', scope);
    expect(k).toMatch(/^p:[0-9a-f]{64}$/);
    expect(entryKey('p:', { ...scope, tenant: 't2' })).not.toBe(k);
    expect(entryKey('p:', { ...scope, method: 'PATCH' })).not.toBe(k);
    expect(entryKey('p:', { ...scope, path: '/a?x=1' })).not.toBe(k);
    expect(entryKey('p:', { ...scope, key: 'k2' })).not.toBe(k);
  });
  it('cannot be confused by separators inside the parts', () => {
    expect(entryKey('p:', { ...scope, tenant: 't1\n1:POST' })).not.toBe(
      entryKey('p:', { ...scope, tenant: 't1', method: '1:POST' }),
    );
  });
});
