import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock';
import { principal } from '../testing/fake-key-backend';
import { KeyCache } from './key-cache';

function make(maxEntries = 3, maxTtlMs = 60_000) {
  const clock = new ManualClock();
  return { clock, cache: new KeyCache(clock, { maxEntries, maxTtlMs }) };
}

describe('KeyCache', () => {
  it('stores and returns a principal by key id + secret', () => {
    const { cache } = make();
    const k = cache.cacheKey('k1', 'secret');
    cache.set(k, principal(), 1000);
    expect(cache.get(k)).toEqual(principal());
    expect(cache.get(cache.cacheKey('k1', 'other'))).toBeUndefined();
  });

  it('never uses the raw secret in a key', () => {
    const { cache } = make();
    const secret = 'correct-horse-battery-staple-0123456789';
    const k = cache.cacheKey('k1', secret);
    cache.set(k, principal(), 1000);
    expect(k).not.toContain(secret);
    expect(cache.keys().join('|')).not.toContain(secret);
    expect(k.startsWith('k1\u0000')).toBe(true);
    // Keyed per process: another cache hashes the same secret differently.
    expect(make().cache.cacheKey('k1', secret)).not.toBe(k);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const { cache } = make(2);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => cache.cacheKey(id, 's')) as [
      string,
      string,
      string,
    ];
    cache.set(a, principal({ keyId: 'a' }), 1000);
    cache.set(b, principal({ keyId: 'b' }), 1000);
    expect(cache.get(a)).toBeDefined(); // a is now the most recent
    cache.set(c, principal({ keyId: 'c' }), 1000);
    expect(cache.size).toBe(2);
    expect(cache.get(b)).toBeUndefined();
    expect(cache.get(a)).toBeDefined();
    expect(cache.get(c)).toBeDefined();
  });

  it('expires entries after their TTL, capped by the configured maximum', () => {
    const { cache, clock } = make(10, 5_000);
    const short = cache.cacheKey('short', 's');
    const long = cache.cacheKey('long', 's');
    cache.set(short, principal(), 1_000);
    cache.set(long, principal(), 3_600_000); // capped at 5 s
    clock.advance(999);
    expect(cache.get(short)).toBeDefined();
    clock.advance(1); // gone exactly at its expiry instant
    expect(cache.get(short)).toBeUndefined();
    clock.advance(3_999);
    expect(cache.get(long)).toBeDefined();
    clock.advance(1);
    expect(cache.get(long)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store a zero or negative TTL', () => {
    const { cache } = make();
    const k = cache.cacheKey('k', 's');
    cache.set(k, principal(), 0);
    cache.set(k, principal(), -5);
    expect(cache.size).toBe(0);
  });

  it('invalidates every secret of a key id and bumps the generation', () => {
    const { cache } = make(10);
    const k1a = cache.cacheKey('k1', 'old');
    const k1b = cache.cacheKey('k1', 'new');
    const k2 = cache.cacheKey('k2', 's');
    for (const k of [k1a, k1b, k2]) cache.set(k, principal(), 1000);
    const gen = cache.generation;
    expect(cache.invalidateKeyId('k1')).toBe(2);
    expect(cache.generation).toBeGreaterThan(gen);
    expect(cache.get(k1a)).toBeUndefined();
    expect(cache.get(k1b)).toBeUndefined();
    expect(cache.get(k2)).toBeDefined();
    expect(cache.invalidateKeyId('nope')).toBe(0);
  });

  it('keeps its key-id index consistent under expiry and re-set', () => {
    const { cache, clock } = make(10, 1_000);
    const a = cache.cacheKey('a', 's1');
    const a2 = cache.cacheKey('a', 's2');
    cache.set(a, principal(), 1_000);
    cache.set(a, principal(), 1_000); // overwrite: still one entry, still indexed
    cache.set(a2, principal(), 1_000);
    clock.advance(1_000);
    expect(cache.get(a)).toBeUndefined(); // expired and dropped from the index
    expect(cache.invalidateKeyId('a')).toBe(1); // only a2 was left
    expect(cache.size).toBe(0);
  });

  it('keeps its key-id index consistent under eviction and clear', () => {
    const { cache } = make(1);
    const a = cache.cacheKey('a', 's');
    const b = cache.cacheKey('b', 's');
    cache.set(a, principal(), 1000);
    cache.set(b, principal(), 1000); // evicts a
    expect(cache.invalidateKeyId('a')).toBe(0);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.invalidateKeyId('b')).toBe(0);
  });
});
