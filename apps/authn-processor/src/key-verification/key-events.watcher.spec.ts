import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../testing/manual-clock';
import { silentLogger } from '../logging/logger';
import { FakeKeyBackend, principal, settle } from '../testing/fake-key-backend';
import { KeyCache } from './key-cache';
import { KeyEventsWatcher } from './key-events.watcher';
import { KeyEventLogReset } from './key-verification.backend';
import { RevokedKeys } from './revoked-keys';

function setup() {
  const backend = new FakeKeyBackend();
  const cache = new KeyCache(new ManualClock(), { maxEntries: 10, maxTtlMs: 60_000 });
  const watcher = new KeyEventsWatcher(backend, cache, silentLogger, {
    initialBackoffMs: 100,
    maxBackoffMs: 400,
  });
  return { backend, cache, watcher };
}

describe('KeyEventsWatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is live only after the subscribed event', () => {
    const { backend, watcher } = setup();
    watcher.start();
    expect(backend.listeners).toHaveLength(1);
    expect(watcher.live).toBe(false);
    backend.emit({ type: 'subscribed' });
    expect(watcher.live).toBe(true);
  });

  it('clears the cache when the stream drops and reconnects with growing backoff', () => {
    const { backend, cache, watcher } = setup();
    watcher.start();
    backend.emit({ type: 'subscribed' });
    cache.set(cache.cacheKey('k1', 's'), principal(), 1000);
    backend.drop();
    expect(watcher.live).toBe(false);
    expect(cache.size).toBe(0);
    // first retry within 100 ms (jittered 50..100)
    vi.advanceTimersByTime(100);
    expect(backend.listeners).toHaveLength(2);
    backend.drop(); // fails again before subscribing
    vi.advanceTimersByTime(99);
    expect(backend.listeners).toHaveLength(2);
    vi.advanceTimersByTime(101); // second retry within 200 ms
    expect(backend.listeners).toHaveLength(3);
    backend.emit({ type: 'subscribed' });
    expect(watcher.live).toBe(true);
    // backoff was reset by the subscribe
    backend.drop();
    vi.advanceTimersByTime(100);
    expect(backend.listeners).toHaveLength(4);
  });

  it('caps the backoff', () => {
    const { backend, watcher } = setup();
    watcher.start();
    for (let i = 0; i < 6; i++) {
      backend.drop();
      vi.advanceTimersByTime(400);
    }
    expect(backend.listeners).toHaveLength(7);
  });

  it('ignores callbacks of an old stream and stops cleanly', () => {
    const { backend, watcher } = setup();
    watcher.start();
    const old = backend.listeners[0]!;
    backend.drop();
    vi.advanceTimersByTime(100);
    old.onEvent({ type: 'subscribed' });
    expect(watcher.live).toBe(false);
    watcher.stop();
    expect(backend.cancelled).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(backend.listeners).toHaveLength(2);
  });
});

describe('KeyEventsWatcher: list, then watch from the sequence', () => {
  function withRevoked() {
    const backend = new FakeKeyBackend();
    const clock = new ManualClock();
    const cache = new KeyCache(clock, { maxEntries: 10, maxTtlMs: 60_000 });
    const revoked = new RevokedKeys(clock, { ttlMs: 3_600_000 });
    const watcher = new KeyEventsWatcher(
      backend,
      cache,
      silentLogger,
      { initialBackoffMs: 10, maxBackoffMs: 10, revokedWindowSeconds: 3_600 },
      revoked,
    );
    return { backend, revoked, watcher, clock };
  }

  it('loads the revoked keys, then watches after their sequence', async () => {
    const { backend, revoked, watcher, clock } = withRevoked();
    backend.revokedList = { keys: [{ keyId: 'gone', revokedAtMs: clock.nowMs() }], sequence: 41 };
    watcher.start();
    expect(() => revoked.isRevoked('gone')).toThrow(); // not loaded yet: fail closed
    await settle();
    expect(revoked.isRevoked('gone')).toBe(true);
    expect(backend.watchedFrom).toEqual([41]);
    watcher.stop();
  });

  it('resumes after the last sequence seen; lists again when the log cannot resume', async () => {
    const { backend, revoked, watcher } = withRevoked();
    backend.revokedList = { keys: [], sequence: 5 };
    watcher.start();
    await settle();
    backend.emit({ type: 'subscribed', sequence: 5 });
    backend.emit({ type: 'revoked', keyId: 'k9', sequence: 8 });
    expect(revoked.isRevoked('k9')).toBe(true);
    backend.drop();
    await new Promise((r) => setTimeout(r, 30));
    expect(backend.watchedFrom).toEqual([5, 8]);
    expect(backend.listCalls).toBe(1);
    backend.drop(new KeyEventLogReset());
    await new Promise((r) => setTimeout(r, 30));
    await settle();
    expect(backend.listCalls).toBe(2);
    expect(backend.watchedFrom).toEqual([5, 8, 5]);
    watcher.stop();
  });

  it('retries the list while the auth service is down, staying closed', async () => {
    const { backend, revoked, watcher } = withRevoked();
    backend.revokedList = new Error('down');
    watcher.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(backend.listCalls).toBeGreaterThan(1);
    expect(backend.listeners).toHaveLength(0);
    expect(() => revoked.isRevoked('x')).toThrow();
    backend.revokedList = { keys: [], sequence: 0 };
    await new Promise((r) => setTimeout(r, 30));
    expect(revoked.isRevoked('x')).toBe(false);
    watcher.stop();
  });
});
