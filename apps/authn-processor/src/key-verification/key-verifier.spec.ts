import { describe, expect, it } from 'vitest';
import { AuthBackendUnavailable, AuthnFailure } from '../authn/authn-error';
import { ManualClock } from '../testing/manual-clock';
import { silentLogger } from '../logging/logger';
import { FakeKeyBackend, principal } from '../testing/fake-key-backend';
import { KeyCache } from './key-cache';
import { KeyEventsWatcher } from './key-events.watcher';
import { KeyVerifier } from './key-verifier';
import { UnknownKeys } from './unknown-keys';

function setup(opts: { live?: boolean; unknownTtlMs?: number; unknownMax?: number } = {}) {
  const clock = new ManualClock();
  const backend = new FakeKeyBackend();
  const cache = new KeyCache(clock, { maxEntries: 100, maxTtlMs: 60_000 });
  const watcher = new KeyEventsWatcher(backend, cache, silentLogger, {
    initialBackoffMs: 10,
    maxBackoffMs: 100,
  });
  watcher.start();
  if (opts.live !== false) backend.emit({ type: 'subscribed' });
  const unknownKeys =
    opts.unknownTtlMs === undefined
      ? undefined
      : new UnknownKeys(clock, { maxEntries: opts.unknownMax ?? 100, ttlMs: opts.unknownTtlMs });
  const verifier = new KeyVerifier(backend, cache, watcher, clock, unknownKeys);
  return { clock, backend, cache, watcher, verifier, unknownKeys };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('KeyVerifier', () => {
  it('a cache hit costs no backend call', async () => {
    const { backend, verifier } = setup();
    await verifier.verify('k1', 'good');
    await verifier.verify('k1', 'good');
    await verifier.verify('k1', 'good');
    expect(backend.calls).toHaveLength(1);
    expect(verifier.stats).toEqual({ hits: 2, misses: 1, backendCalls: 1, unknownHits: 0 });
  });

  it('coalesces concurrent identical lookups into one call', async () => {
    const { backend, verifier } = setup();
    backend.hold = true;
    const all = Promise.all([1, 2, 3, 4].map(() => verifier.verify('k1', 'good')));
    expect(backend.calls).toHaveLength(1);
    backend.hold = false;
    for (const d of backend.pending) d.resolve({ kind: 'unknown-key' });
    const ps = await all;
    expect(ps.every((p) => p.keyId === 'k1')).toBe(true);
  });

  it('maps negative answers to 401 failures, and does not cache them', async () => {
    const { backend, verifier } = setup();
    const codes: Record<string, string> = {
      'unknown-key': 'UnknownKey',
      'wrong-secret': 'InvalidSecret',
      revoked: 'RevokedKey',
      expired: 'ExpiredKey',
    };
    for (const [kind, code] of Object.entries(codes)) {
      backend.answer = () => ({ kind }) as never;
      const f = await failure(verifier.verify('k', 'bad'));
      expect(f).toBeInstanceOf(AuthnFailure);
      expect((f as AuthnFailure).code).toBe(code);
    }
    await failure(verifier.verify('k', 'bad'));
    expect(backend.calls).toHaveLength(5);
  });

  it('propagates backend unavailability (fail closed)', async () => {
    const { backend, verifier } = setup();
    backend.answer = () => new AuthBackendUnavailable('down');
    expect(await failure(verifier.verify('k1', 'good'))).toBeInstanceOf(AuthBackendUnavailable);
  });

  it('honours the TTL the auth service asks for and the key expiry', async () => {
    const { backend, verifier, clock } = setup();
    backend.answer = (keyId) => ({
      kind: 'ok',
      principal: principal({ keyId, validUntil: new Date(clock.nowMs() + 2_000) }),
      cacheTtlMs: 30_000,
    });
    await verifier.verify('k1', 'good');
    clock.advance(1_999);
    await verifier.verify('k1', 'good');
    expect(backend.calls).toHaveLength(1);
    clock.advance(1);
    await verifier.verify('k1', 'good');
    expect(backend.calls).toHaveLength(2);
  });

  it('cache_ttl_seconds 0 means do not cache', async () => {
    const { backend, verifier } = setup();
    backend.answer = (keyId) => ({ kind: 'ok', principal: principal({ keyId }), cacheTtlMs: 0 });
    await verifier.verify('k1', 'good');
    await verifier.verify('k1', 'good');
    expect(backend.calls).toHaveLength(2);
  });

  it('a REVOKED event drops the key at once', async () => {
    const { backend, verifier } = setup();
    await verifier.verify('k1', 'good');
    backend.emit({ type: 'revoked', keyId: 'k1' });
    backend.answer = () => ({ kind: 'revoked' });
    const f = await failure(verifier.verify('k1', 'good'));
    expect((f as AuthnFailure).code).toBe('RevokedKey');
  });

  it('a ROTATED event drops the key too', async () => {
    const { backend, verifier } = setup();
    await verifier.verify('k1', 'good');
    backend.emit({ type: 'rotated', keyId: 'k1' });
    await verifier.verify('k1', 'good');
    expect(backend.calls).toHaveLength(2);
  });

  it('does not cache a result that raced with a revocation', async () => {
    const { backend, verifier } = setup();
    backend.hold = true;
    const p = verifier.verify('k1', 'good');
    backend.emit({ type: 'revoked', keyId: 'k1' }); // while VerifyKey is in flight
    backend.hold = false;
    backend.pending[0]!.resolve({ kind: 'unknown-key' });
    await p;
    await verifier.verify('k1', 'good');
    expect(backend.calls).toHaveLength(2);
  });

  it('bypasses the cache while the event stream is down', async () => {
    const { backend, verifier, cache } = setup({ live: false });
    await verifier.verify('k1', 'good');
    await verifier.verify('k1', 'good');
    expect(backend.calls).toHaveLength(2);
    expect(cache.size).toBe(0);
  });

  describe('negative cache of unknown key ids', () => {
    const unknownFor = (ids: Set<string>) => (keyId: string, secret: string) =>
      ids.has(keyId)
        ? ({ kind: 'unknown-key' } as const)
        : secret === 'good'
          ? ({ kind: 'ok', principal: principal({ keyId }), cacheTtlMs: 60_000 } as const)
          : ({ kind: 'wrong-secret' } as const);

    it('a repeated unknown key id costs one backend call per TTL, whatever the secret', async () => {
      const { backend, verifier, clock } = setup({ unknownTtlMs: 2_000 });
      backend.answer = unknownFor(new Set(['nope']));
      for (const secret of ['a', 'b', 'good', 'c']) {
        const f = await failure(verifier.verify('nope', secret));
        expect((f as AuthnFailure).code).toBe('UnknownKey');
      }
      expect(backend.calls).toHaveLength(1);
      expect(verifier.stats.unknownHits).toBe(3);
      clock.advance(2_000);
      await failure(verifier.verify('nope', 'a'));
      expect(backend.calls).toHaveLength(2);
    });

    it('a key created after its id was refused works once the TTL has passed', async () => {
      const { backend, verifier, clock } = setup({ unknownTtlMs: 2_000 });
      const unknown = new Set(['k-new']);
      backend.answer = unknownFor(unknown);
      await failure(verifier.verify('k-new', 'good'));
      unknown.delete('k-new'); // created now
      clock.advance(1_999);
      expect(((await failure(verifier.verify('k-new', 'good'))) as AuthnFailure).code).toBe(
        'UnknownKey',
      );
      clock.advance(1);
      expect((await verifier.verify('k-new', 'good')).keyId).toBe('k-new');
    });

    it('is bounded: the least recently refused ids are forgotten first', async () => {
      const { backend, verifier, unknownKeys } = setup({ unknownTtlMs: 60_000, unknownMax: 3 });
      backend.answer = () => ({ kind: 'unknown-key' });
      for (const id of ['u1', 'u2', 'u3', 'u4', 'u5']) await failure(verifier.verify(id, 'x'));
      expect(unknownKeys!.size).toBe(3);
      await failure(verifier.verify('u1', 'x')); // evicted: asks again
      await failure(verifier.verify('u5', 'x')); // still cached
      expect(backend.calls.map((c) => c.keyId)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u1']);
    });

    it('only unknown ids are cached: wrong secrets, revoked keys and outages are asked again', async () => {
      const { backend, verifier } = setup({ unknownTtlMs: 60_000 });
      for (const answer of [
        { kind: 'wrong-secret' } as const,
        { kind: 'revoked' } as const,
        { kind: 'expired' } as const,
        new AuthBackendUnavailable('down'),
      ]) {
        backend.answer = () => answer;
        await failure(verifier.verify('k1', 'bad'));
        await failure(verifier.verify('k1', 'bad'));
      }
      expect(backend.calls).toHaveLength(8);
    });

    it('TTL 0 disables it', async () => {
      const { backend, verifier } = setup({ unknownTtlMs: 0 });
      backend.answer = () => ({ kind: 'unknown-key' });
      await failure(verifier.verify('nope', 'x'));
      await failure(verifier.verify('nope', 'x'));
      expect(backend.calls).toHaveLength(2);
    });
  });
});
