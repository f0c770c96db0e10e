import { describe, expect, it } from 'vitest';
import { Authenticator, type ApiKeyVerifier, type TokenVerifier } from '../authn/authenticator';
import { type Principal } from '../authn/principal';
import { DEFAULT_POLICY } from '../authn/route-policy';
import { silentLogger } from '../logging/logger';
import { FakeKeyBackend } from '../testing/fake-key-backend';
import { ManualClock } from '../testing/manual-clock';
import { KeyCache } from './key-cache';
import { KeyEventsWatcher } from './key-events.watcher';
import { RotatedKeys } from './rotated-keys';

const T = Date.UTC(2030, 0, 1, 0, 0, 10, 400); // a rotation at 00:00:10.400

describe('RotatedKeys', () => {
  it('refuses tokens issued before the next whole second after the rotation', () => {
    const clock = new ManualClock(T);
    const r = new RotatedKeys(clock, { maxEntries: 10, ttlMs: 60_000 });
    expect(r.issuedBeforeRotation('k1', T - 5000)).toBe(false); // nothing known yet
    r.add('k1', T);
    expect(r.issuedBeforeRotation('k1', Date.UTC(2030, 0, 1, 0, 0, 10))).toBe(true); // same second
    expect(r.issuedBeforeRotation('k1', T - 100_000)).toBe(true);
    expect(r.issuedBeforeRotation('k1', undefined)).toBe(true); // no iat: cannot prove it is newer
    expect(r.issuedBeforeRotation('k1', Date.UTC(2030, 0, 1, 0, 0, 11))).toBe(false);
    expect(r.issuedBeforeRotation('k2', T - 100_000)).toBe(false);
  });

  it('keeps the latest cut-off, forgets after the longest token lifetime, and is bounded', () => {
    const clock = new ManualClock(T);
    const r = new RotatedKeys(clock, { maxEntries: 2, ttlMs: 60_000 });
    r.add('k1', T + 5000);
    r.add('k1', T); // an older event arriving late does not lower the cut-off
    expect(r.issuedBeforeRotation('k1', T + 5000)).toBe(true);
    r.add('k2', T);
    r.add('k3', T);
    expect(r.size).toBe(2);
    expect(r.issuedBeforeRotation('k1', T)).toBe(false); // evicted, oldest first
    clock.advance(60_000);
    expect(r.issuedBeforeRotation('k3', T)).toBe(false);
  });
});

describe('Authenticator with a rotation list', () => {
  const bearer = (issuedAt: number | undefined, keyId = 'k1'): Principal => ({
    via: 'bearer',
    tenant: 't',
    userId: 'u',
    keyId,
    scopes: [],
    expiresAt: T + 300_000,
    issuedAt,
  });

  it('refuses a token of a rotated key issued before the rotation: 401 InvalidToken', async () => {
    const clock = new ManualClock(T);
    const rotated = new RotatedKeys(clock, { maxEntries: 10, ttlMs: 600_000 });
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
    const rotated = new RotatedKeys(clock, { maxEntries: 10, ttlMs: 600_000 });
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
    backend.emit({ type: 'revoked', keyId: 'k2', at: T });
    backend.emit({ type: 'rotated', keyId: 'k1', at: T });
    expect(rotated.issuedBeforeRotation('k1', T - 1000)).toBe(true);
    expect(rotated.issuedBeforeRotation('k2', T - 1000)).toBe(false);
    watcher.stop();
  });
});
