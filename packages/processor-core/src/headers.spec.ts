import { describe, expect, it } from 'vitest';
import { Headers, headerValueString } from './headers';

const raw = (key: string, v: string) => ({ key, value: '', rawValue: Buffer.from(v) });
const val = (key: string, v: string) => ({ key, value: v, rawValue: Buffer.alloc(0) });

describe('Headers', () => {
  it('reads raw_value (Envoy >= 1.34) and value (older Envoy) alike', () => {
    const h = new Headers([raw(':path', '/a'), val('x-old', 'yes')]);
    expect(h.get(':path')).toBe('/a');
    expect(h.get('x-old')).toBe('yes');
    expect(headerValueString(raw('a', 'b'))).toBe('b');
    expect(headerValueString(val('a', 'c'))).toBe('c');
  });

  it('prefers raw_value when both are set', () => {
    expect(headerValueString({ key: 'a', value: 'old', rawValue: Buffer.from('new') })).toBe('new');
  });

  it('matches names case-insensitively', () => {
    const h = new Headers([raw('Content-Type', 'text/plain')]);
    expect(h.get('content-type')).toBe('text/plain');
    expect(h.get('CONTENT-TYPE')).toBe('text/plain');
    expect(h.has('Content-type')).toBe(true);
    expect(h.has('x-missing')).toBe(false);
    expect(h.get('x-missing')).toBeUndefined();
  });

  it('keeps repeated headers in order', () => {
    const h = new Headers([
      raw('set-cookie', 'a=1'),
      raw('x', '1'),
      raw('set-cookie', 'b=2'),
      raw('x', '2'),
    ]);
    expect(h.get('set-cookie')).toBe('a=1');
    expect(h.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(h.getAll('none')).toEqual([]);
    expect(h.size).toBe(4);
    expect([...h]).toEqual([
      ['set-cookie', 'a=1'],
      ['x', '1'],
      ['set-cookie', 'b=2'],
      ['x', '2'],
    ]);
    expect(h.toObject()).toEqual({ 'set-cookie': ['a=1', 'b=2'], x: '1, 2' });
  });

  it('decodes lazily: nothing is read before the first access', () => {
    let reads = 0;
    const h1 = {
      key: 'a',
      value: '',
      get rawValue() {
        reads++;
        return Buffer.from('1');
      },
    };
    const h = new Headers([h1]);
    expect(reads).toBe(0);
    h.get('a');
    h.get('a');
    h.getAll('a');
    expect(reads).toBe(1);
  });

  it('decodes UTF-8 raw values', () => {
    expect(new Headers([raw('x-name', 'zoë')]).get('x-name')).toBe('zoë');
  });

  it('builds from a record', () => {
    const h = Headers.fromRecord({ A: '1', b: ['2', '3'] });
    expect(h.get('a')).toBe('1');
    expect(h.getAll('b')).toEqual(['2', '3']);
  });

  it('decodes only the values that are read, each once', () => {
    let reads = 0;
    const hv = (key: string, value: string) => ({
      key,
      value: '',
      get rawValue() {
        reads++;
        return Buffer.from(value);
      },
    });
    const h = new Headers([hv(':path', '/x'), hv('authorization', 'secret'), hv('x-a', '1')]);
    expect(reads).toBe(0);
    expect(h.get(':path')).toBe('/x');
    expect(h.get(':path')).toBe('/x');
    expect(h.has('authorization')).toBe(true);
    expect(reads).toBe(1);
    expect(h.toObject()).toEqual({ ':path': '/x', authorization: 'secret', 'x-a': '1' });
    expect(reads).toBe(3);
  });
});
