import { describe, expect, it } from 'vitest';
import { AuthBackendUnavailable } from '../authn/authn-error';
import { ManualClock } from '../testing/manual-clock';
import { RevokedKeys } from './revoked-keys';

describe('RevokedKeys', () => {
  it('fails closed until the first list is loaded', () => {
    const r = new RevokedKeys(new ManualClock(), { ttlMs: 1_000 });
    expect(() => r.isRevoked('k1')).toThrow(AuthBackendUnavailable);
    r.load([]);
    expect(r.isRevoked('k1')).toBe(false);
  });

  it('remembers a revocation for the token lifetime from when it happened, then forgets it', () => {
    const clock = new ManualClock();
    const r = new RevokedKeys(clock, { ttlMs: 1_000 });
    r.load([{ keyId: 'old', revokedAtMs: clock.nowMs() - 900 }]);
    r.add('k1');
    expect(r.isRevoked('k1')).toBe(true);
    expect(r.isRevoked('old')).toBe(true);
    expect(r.isRevoked('k2')).toBe(false);
    clock.advance(100);
    expect(r.isRevoked('old')).toBe(false);
    clock.advance(900);
    expect(r.isRevoked('k1')).toBe(false);
    expect(r.size).toBe(0);
  });

  it('is not evictable by volume: 100k other revocations keep the first one', () => {
    const clock = new ManualClock();
    const r = new RevokedKeys(clock, { ttlMs: 60_000 });
    r.load([]);
    r.add('victim');
    for (let i = 0; i < 100_000; i++) r.add(`other-${i}`);
    expect(r.isRevoked('victim')).toBe(true);
    expect(r.size).toBe(100_001);
    // ... and memory goes back down as entries age out.
    clock.advance(60_000);
    r.add('late');
    expect(r.size).toBe(1);
  });
});
