import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../testing/manual-clock';
import { silentLogger } from '../logging/logger';
import { FakeKeyBackend, principal } from '../testing/fake-key-backend';
import { KeyCache } from './key-cache';
import { KeyEventsWatcher } from './key-events.watcher';

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
