import { describe, expect, it } from 'vitest';
import { planSigningKeys, type ScheduledKey, signingKeyAt } from './signing-key-schedule';

const H = 3_600_000;
const settings = { rotationMs: 24 * H, publishAheadMs: H, tokenTtlMs: 5 * 60_000 };
const t0 = new Date('2030-01-01T00:00:00Z').getTime();
const at = (ms: number) => new Date(t0 + ms);
const key = (kid: string, activatesMs: number): ScheduledKey => ({
  kid,
  activatesAt: at(activatesMs),
});

describe('planSigningKeys', () => {
  it('creates an immediately active key on a fresh deployment', () => {
    expect(planSigningKeys([], at(0), settings)).toEqual({
      signingKid: undefined,
      create: [at(0)],
      prune: [],
    });
  });

  it('does nothing while the current key is young', () => {
    expect(planSigningKeys([key('a', 0)], at(22 * H), settings)).toEqual({
      signingKid: 'a',
      create: [],
      prune: [],
    });
  });

  it('creates the successor publishAhead before it signs', () => {
    const plan = planSigningKeys([key('a', 0)], at(23 * H), settings);
    expect(plan.signingKid).toBe('a');
    expect(plan.create).toEqual([at(24 * H)]);
  });

  it('never activates a successor sooner than publishAhead from now (e.g. after downtime)', () => {
    const plan = planSigningKeys([key('a', 0)], at(50 * H), settings);
    expect(plan.create).toEqual([at(51 * H)]);
    expect(plan.signingKid).toBe('a');
  });

  it('keeps signing with the old key until the published successor activates', () => {
    const keys = [key('a', 0), key('b', 24 * H)];
    expect(planSigningKeys(keys, at(23.5 * H), settings)).toEqual({
      signingKid: 'a',
      create: [],
      prune: [],
    });
    expect(planSigningKeys(keys, at(24 * H), settings).signingKid).toBe('b');
  });

  it('keeps the old key published for token lifetime + margin after its last use', () => {
    const keys = [key('a', 0), key('b', 24 * H)];
    const lastValid = 24 * H + settings.tokenTtlMs + settings.publishAheadMs;
    expect(planSigningKeys(keys, at(lastValid - 1), settings).prune).toEqual([]);
    expect(planSigningKeys(keys, at(lastValid), settings).prune).toEqual(['a']);
  });

  it('does not create a second pending key', () => {
    const keys = [key('a', 0), key('b', 24 * H)];
    expect(planSigningKeys(keys, at(23.9 * H), settings).create).toEqual([]);
  });
});

describe('signingKeyAt', () => {
  it('picks the latest activated key', () => {
    const keys = [key('b', 10), key('a', 0), key('c', 20)];
    expect(signingKeyAt(keys, at(15))?.kid).toBe('b');
    expect(signingKeyAt(keys, at(20))?.kid).toBe('c');
    expect(signingKeyAt(keys, at(-1))).toBeUndefined();
  });
});
