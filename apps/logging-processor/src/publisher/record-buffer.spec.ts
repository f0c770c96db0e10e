import { describe, expect, it } from 'vitest';
import { RecordBuffer } from './record-buffer';

const rec = (key: string, n = 10) => ({ key, value: Buffer.alloc(n, key) });

describe('RecordBuffer', () => {
  it('keeps order across take and putBack', () => {
    const b = new RecordBuffer({ maxRecords: 10, maxBytes: 1000 });
    for (const k of ['a', 'b', 'c', 'd']) expect(b.offer(rec(k))).toBe(true);
    const first = b.take(2);
    expect(first.map((r) => r.key)).toEqual(['a', 'b']);
    b.putBack(first);
    expect(b.size).toBe(4);
    expect(b.take(10).map((r) => r.key)).toEqual(['a', 'b', 'c', 'd']);
    expect(b.size).toBe(0);
    expect(b.byteSize).toBe(0);
  });

  it('refuses records beyond the record bound and beyond the byte bound', () => {
    const b = new RecordBuffer({ maxRecords: 2, maxBytes: 1000 });
    expect(b.offer(rec('a'))).toBe(true);
    expect(b.offer(rec('b'))).toBe(true);
    expect(b.offer(rec('c'))).toBe(false);
    expect(b.size).toBe(2);
    const c = new RecordBuffer({ maxRecords: 100, maxBytes: 25 });
    expect(c.offer(rec('a'))).toBe(true);
    expect(c.offer(rec('b'))).toBe(true);
    expect(c.offer(rec('c'))).toBe(false);
    expect(c.byteSize).toBe(20);
  });

  it('compacts after many takes without losing records', () => {
    const b = new RecordBuffer({ maxRecords: 100_000, maxBytes: 10_000_000 });
    for (let i = 0; i < 20_000; i++) b.offer({ key: String(i), value: Buffer.alloc(1) });
    let seen = 0;
    while (b.size > 0) {
      const batch = b.take(333);
      expect(batch[0]?.key).toBe(String(seen));
      seen += batch.length;
    }
    expect(seen).toBe(20_000);
  });

  it('takes no more than maxBytes, but always the first record', () => {
    const b = new RecordBuffer({ maxRecords: 10, maxBytes: 1000 });
    for (const [k, n] of [
      ['a', 40],
      ['b', 40],
      ['c', 40],
      ['d', 200],
      ['e', 10],
    ] as const) {
      b.offer(rec(k, n));
    }
    expect(b.take(10, 100).map((r) => r.key)).toEqual(['a', 'b']);
    expect(b.take(10, 100).map((r) => r.key)).toEqual(['c']);
    // Larger than the cap on its own: taken alone rather than never.
    expect(b.take(10, 100).map((r) => r.key)).toEqual(['d']);
    expect(b.take(10, 100).map((r) => r.key)).toEqual(['e']);
    expect(b.byteSize).toBe(0);
  });
});
