import { describe, expect, it } from 'vitest';
import { Authenticator, type ApiKeyVerifier, type TokenVerifier } from '../authn/authenticator';
import { type Principal } from '@edge/auth-contract';
import { DEFAULT_POLICY } from '../authn/route-policy';
import { silentLogger } from '../logging/logger';
import { FakeKeyBackend, loadedRevokedKeys, settle } from '../testing/fake-key-backend';
import { ManualClock } from '../testing/manual-clock';
import { KeyCache } from './key-cache';
import { KeyEventsWatcher } from './key-events.watcher';
import { RotatedKeys } from './rotated-keys';

const T = Date.UTC(2030, 0, 1, 0, 0, 10, 400); // a rotation at 00:00:10.400

describe('RotatedKeys', () => {
  it('refuses tokens issued before the next whole second after the rotation', () => {
    const clock = new ManualClock(T);
    const r = new RotatedKeys(clock, { ttlMs: 60_000 });
    expect(r.issuedBeforeRotation('k1', T - 5000)).toBe(false); // nothing known yet
    r.add('k1', T);
    expect(r.issuedBeforeRotation('k1', Date.UTC(2030, 0, 1, 0, 0, 10))).toBe(true); // same second
    expect(r.issuedBeforeRotation('k1', T - 100_000)).toBe(true);
    expect(r.issuedBeforeRotation('k1', undefined)).toBe(true); // no iat: cannot prove it is newer
    expect(r.issuedBeforeRotation('k1', Date.UTC(2030, 0, 1, 0, 0, 11))).toBe(false);
    expect(r.issuedBeforeRotation('k2', T - 100_000)).toBe(false);
  });

  it('keeps the latest cut-off and forgets it a token lifetime after the cut-off', () => {
    const clock = new ManualClock(T);
    const r = new RotatedKeys(clock, { ttlMs: 60_000 });
    r.add('k1', T + 5000);
    r.add('k1', T); // an older event arriving late does not lower the cut-off
    expect(r.issuedBeforeRotation('k1', T + 5000)).toBe(true);
    r.add('k2', T);
    // cut-off of k2: T's next whole second (T + 600 ms); forgotten 60 s after it
    clock.advance(60_599);
    expect(r.issuedBeforeRotation('k2', T)).toBe(true);
    clock.advance(1);
    expect(r.issuedBeforeRotation('k2', T)).toBe(false);
    expect(r.issuedBeforeRotation('k1', T)).toBe(true); // its cut-off is 5 s later
  });

  it('is not evictable by volume: 100k rotations of other keys keep the first one', () => {
    const clock = new ManualClock(T);
    const r = new RotatedKeys(clock, { ttlMs: 60_000 });
    r.add('victim', T);
    for (let i = 0; i < 100_000; i++) r.add(`other-${i}`, T);
    expect(r.issuedBeforeRotation('victim', T - 1000)).toBe(true);
    expect(r.size).toBe(100_001);
    // ... and memory goes back down as entries age out.
    clock.advance(61_000);
    r.add('late', clock.nowMs());
    expect(r.size).toBe(1);
  });

  it("loads the auth service's listed cut-offs (tokens_not_before) as they are", () => {
    const clock = new ManualClock(T);
    const r = new RotatedKeys(clock, { ttlMs: 60_000 });
    r.load([{ keyId: 'k1', notBeforeMs: Date.UTC(2030, 0, 1, 0, 0, 11) }]);
    expect(r.issuedBeforeRotation('k1', Date.UTC(2030, 0, 1, 0, 0, 10))).toBe(true);
    expect(r.issuedBeforeRotation('k1', Date.UTC(2030, 0, 1, 0, 0, 11))).toBe(false);
  });
});

describe('Authenticator with a rotation list', () => {
  const bearer = (issuedAt: number | undefined, keyId = 'k1'): Principal => ({
    via: 'jwt',
    tenant: 't',
    userId: 'u',
    keyId,
    scopes: [],
    validUntil: new Date(T + 300_000),
    ...(issuedAt === undefined ? {} : { issuedAt: new Date(issuedAt) }),
  });

  it('refuses a token of a rotated key issued before the rotation: 401 InvalidToken', async () => {
    const clock = new ManualClock(T);
    const rotated = new RotatedKeys(clock, { ttlMs: 600_000 });
    let next: Principal = bearer(T - 1000);
    const tokens: TokenVerifier = { verify: () => Promise.resolve(next) };
    const keys: ApiKeyVerifier = { verify: () => Promise.reject(new Error('unused')) };
    const authn = new Authenticator(
      keys,
      tokens,
      { maxAuthorizationBytes: 4096, realm: 'edge' },
      undefined,
      rotated,
    );
    expect((await authn.decide(['Bearer a.b.c'], DEFAULT_POLICY)).kind).toBe('allow');
    rotated.add('k1', T);
    const denied = await authn.decide(['Bearer a.b.c'], DEFAULT_POLICY);
    expect(denied).toMatchObject({ kind: 'deny', status: 401, code: 'InvalidToken' });
    next = bearer(Date.UTC(2030, 0, 1, 0, 0, 11));
    expect((await authn.decide(['Bearer a.b.c'], DEFAULT_POLICY)).kind).toBe('allow');
    next = bearer(T - 1000, 'k2');
    expect((await authn.decide(['Bearer a.b.c'], DEFAULT_POLICY)).kind).toBe('allow');
  });
});

describe('KeyEventsWatcher → RotatedKeys', () => {
  it('a ROTATED event with its time records the cut-off; REVOKED does not', () => {
    const clock = new ManualClock(T);
    const backend = new FakeKeyBackend();
    const rotated = new RotatedKeys(clock, { ttlMs: 600_000 });
    const watcher = new KeyEventsWatcher(
      backend,
      new KeyCache(clock, { maxEntries: 10, maxTtlMs: 60_000 }),
      silentLogger,
      { initialBackoffMs: 100, maxBackoffMs: 400 },
      undefined,
      rotated,
    );
    watcher.start();
    backend.emit({ type: 'subscribed' });
    backend.emit({ type: 'revoked', keyId: 'k2', atMs: T });
    backend.emit({ type: 'rotated', keyId: 'k1', atMs: T });
    expect(rotated.issuedBeforeRotation('k1', T - 1000)).toBe(true);
    expect(rotated.issuedBeforeRotation('k2', T - 1000)).toBe(false);
    watcher.stop();
  });
});

describe('KeyEventsWatcher lists rotations before it watches', () => {
  it("a processor started after a rotation refuses the key's older tokens (ListRevokedKeys)", async () => {
    const clock = new ManualClock(T + 30_000);
    const backend = new FakeKeyBackend();
    const cutOff = Date.UTC(2030, 0, 1, 0, 0, 11);
    backend.revokedList = {
      keys: [],
      rotated: [{ keyId: 'k1', notBeforeMs: cutOff }],
      sequence: 7,
    };
    const rotated = new RotatedKeys(clock, { ttlMs: 600_000 });
    const watcher = new KeyEventsWatcher(
      backend,
      new KeyCache(clock, { maxEntries: 10, maxTtlMs: 60_000 }),
      silentLogger,
      { initialBackoffMs: 100, maxBackoffMs: 400, revokedWindowSeconds: 600 },
      loadedRevokedKeys(clock),
      rotated,
    );
    watcher.start();
    await settle();
    expect(backend.listCalls).toBe(1);
    expect(backend.watchedFrom).toEqual([7]);
    expect(rotated.issuedBeforeRotation('k1', cutOff - 1000)).toBe(true);
    expect(rotated.issuedBeforeRotation('k1', cutOff)).toBe(false);
    watcher.stop();
  });
});
