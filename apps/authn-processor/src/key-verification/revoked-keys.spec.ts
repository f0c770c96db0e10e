import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock';
import { RevokedKeys } from './revoked-keys';

describe('RevokedKeys', () => {
  it('remembers a revocation for the token lifetime, then forgets it', () => {
    const clock = new ManualClock();
    const r = new RevokedKeys(clock, { maxEntries: 10, ttlMs: 1_000 });
    r.add('k1');
    expect(r.isRevoked('k1')).toBe(true);
    expect(r.isRevoked('k2')).toBe(false);
    clock.advance(1_000);
    expect(r.isRevoked('k1')).toBe(false);
    expect(r.size).toBe(0);
  });

  it('is bounded, forgetting the oldest first', () => {
    const r = new RevokedKeys(new ManualClock(), { maxEntries: 2, ttlMs: 1_000 });
    r.add('a');
    r.add('b');
    r.add('c');
    expect([r.isRevoked('a'), r.isRevoked('b'), r.isRevoked('c')]).toEqual([false, true, true]);
  });
});
