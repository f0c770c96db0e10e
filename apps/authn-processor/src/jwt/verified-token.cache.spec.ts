import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiKeyVerifier, Authenticator, type TokenVerifier } from '../authn/authenticator';
import { AuthBackendUnavailable, AuthnFailure } from '../authn/authn-error';
import { type Principal } from '@edge/auth-contract';
import { DEFAULT_POLICY } from '../authn/route-policy';
import { silentLogger } from '../logging/logger';
import {
  AUDIENCE,
  FakeJwksFetcher,
  ISSUER,
  NOW_S,
  sign,
  type TestKey,
  testKey,
} from '../testing/jwt-fixtures';
import { ManualClock } from '../testing/manual-clock';
import { loadedRevokedKeys } from '../testing/fake-key-backend';
import { JwksCache } from './jwks.cache';
import { JwtVerifier } from './jwt-verifier';
import { CachingTokenVerifier, VerifiedTokenCache } from './verified-token.cache';

let k1: TestKey;
let k2: TestKey;
let k1b: TestKey;

beforeAll(async () => {
  [k1, k2, k1b] = await Promise.all([testKey('k1'), testKey('k2'), testKey('k1')]);
});

/** Counts the calls that reach the real (signature-checking) verifier. */
class CountingVerifier implements TokenVerifier {
  calls = 0;
  constructor(private readonly inner: TokenVerifier) {}
  verify(token: string): Promise<Principal> {
    this.calls++;
    return this.inner.verify(token);
  }
}

function setup(
  opts: { keys?: TestKey[]; maxEntries?: number; maxTtlMs?: number; cooldownMs?: number } = {},
) {
  const clock = new ManualClock(NOW_S * 1000);
  const fetcher = new FakeJwksFetcher((opts.keys ?? [k1]).map((k) => k.jwk));
  const jwks = new JwksCache(fetcher, clock, silentLogger, {
    maxAgeMs: 600_000,
    cooldownMs: opts.cooldownMs ?? 30_000,
  });
  const real = new CountingVerifier(
    new JwtVerifier(jwks, clock, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['ES256'],
      clockToleranceSeconds: 5,
      maxTtlSeconds: 3_600,
    }),
  );
  const cache = new VerifiedTokenCache(clock, {
    maxEntries: opts.maxEntries ?? 100,
    maxTtlMs: opts.maxTtlMs ?? 60_000,
    clockToleranceSeconds: 5,
  });
  jwks.onKeysRemoved(() => cache.clear()); // as JwtModule wires it
  const verifier = new CachingTokenVerifier(real, cache);
  return { clock, fetcher, jwks, real, cache, verifier };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AuthnFailure) return `${e.code}: ${e.sentence}`;
    if (e instanceof AuthBackendUnavailable) return e.code;
    throw e;
  }
  return 'ok';
}

describe('CachingTokenVerifier / VerifiedTokenCache', () => {
  it('a repeated token is answered from the cache without a signature check', async () => {
    const { verifier, real, cache } = setup();
    const t = await sign(k1);
    const first = await verifier.verify(t);
    const second = await verifier.verify(t);
    const third = await verifier.verify(t);
    expect(real.calls).toBe(1);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(cache.stats).toEqual({ hits: 2, misses: 1 });
    // another token is another entry
    await verifier.verify(await sign(k1, { tenant: 't2' }));
    expect(real.calls).toBe(2);
    expect(cache.size).toBe(2);
  });

  it('the cache key is the SHA-256 of the token, never the token', async () => {
    const { verifier, cache } = setup();
    const t = await sign(k1);
    await verifier.verify(t);
    const sha = createHash('sha256').update(t).digest('base64url');
    expect(cache.keys()).toEqual([sha]);
    expect(cache.cacheKey(t)).toBe(sha);
    for (const k of cache.keys()) {
      expect(k).not.toContain(t);
      expect(t).not.toContain(k);
      expect(k).toHaveLength(43);
    }
  });

  it('an entry ends at exp; past exp + tolerance the token is refused as by the verifier', async () => {
    const { verifier, real, clock } = setup();
    const t = await sign(k1, {}, { exp: NOW_S + 10 });
    await verifier.verify(t);
    clock.advance(9_999);
    expect(await outcome(verifier.verify(t))).toBe('ok');
    expect(real.calls).toBe(1); // hit
    clock.advance(1); // at exp: the entry is gone, the verifier decides (within its tolerance)
    expect(await outcome(verifier.verify(t))).toBe('ok');
    expect(real.calls).toBe(2);
    clock.advance(4_000); // exp + 4 s: still accepted by the verifier, but never cached again
    expect(await outcome(verifier.verify(t))).toBe('ok');
    expect(real.calls).toBe(3);
    clock.advance(1_000); // exp + tolerance
    expect(await outcome(verifier.verify(t))).toBe('ExpiredToken: The token has expired');
    expect(real.calls).toBe(4);
  });

  it('an entry lives at most the configured TTL', async () => {
    const { verifier, real, clock } = setup({ maxTtlMs: 60_000 });
    const t = await sign(k1, {}, { exp: NOW_S + 300 });
    await verifier.verify(t);
    clock.advance(59_999);
    await verifier.verify(t);
    expect(real.calls).toBe(1);
    clock.advance(1);
    await verifier.verify(t);
    expect(real.calls).toBe(2);
  });

  it('a hit re-checks exp with the verifier clock tolerance (guard for any entry)', () => {
    const clock = new ManualClock(NOW_S * 1000);
    // TTL longer than the token's life: the entry still ends at exp
    const cache = new VerifiedTokenCache(clock, {
      maxEntries: 10,
      maxTtlMs: 3_600_000,
      clockToleranceSeconds: 5,
    });
    const p: Principal = {
      via: 'jwt',
      tenant: 't1',
      userId: 'u1',
      keyId: 'k1',
      scopes: [],
      validUntil: new Date((NOW_S + 2) * 1000),
    };
    cache.set('h', p, cache.generation);
    expect(cache.get('h')).toBe(p);
    clock.advance(2_000);
    expect(cache.get('h')).toBeUndefined();
    expect(cache.size).toBe(0);
    // already expired, or without exp: not stored
    cache.set('h', p, cache.generation);
    cache.set('x', { ...p, validUntil: null }, cache.generation);
    expect(cache.size).toBe(0);
  });

  it('is bounded: the least recently used token is evicted first', async () => {
    const { verifier, real, cache } = setup({ maxEntries: 2 });
    const [a, b, c] = await Promise.all([
      sign(k1, { tenant: 'a' }),
      sign(k1, { tenant: 'b' }),
      sign(k1, { tenant: 'c' }),
    ]);
    await verifier.verify(a);
    await verifier.verify(b);
    await verifier.verify(a); // a is now the most recently used
    await verifier.verify(c); // evicts b
    expect(cache.size).toBe(2);
    expect(real.calls).toBe(3);
    await verifier.verify(a);
    await verifier.verify(c);
    expect(real.calls).toBe(3);
    await verifier.verify(b);
    expect(real.calls).toBe(4);
    expect(cache.size).toBe(2);
  });

  it('JWT_CACHE_MAX_ENTRIES=0 disables it: every request is verified', async () => {
    const { verifier, real, cache } = setup({ maxEntries: 0 });
    const t = await sign(k1);
    await verifier.verify(t);
    await verifier.verify(t);
    expect(real.calls).toBe(2);
    expect(cache.size).toBe(0);
    expect(cache.stats).toEqual({ hits: 0, misses: 0 });
  });

  it('failures are never cached (401 and 503)', async () => {
    const { verifier, real, cache } = setup();
    const bad = await sign(k1, {}, { iss: 'evil' });
    expect(await outcome(verifier.verify(bad))).toMatch(/^InvalidToken/);
    expect(await outcome(verifier.verify(bad))).toMatch(/^InvalidToken/);
    expect(real.calls).toBe(2);
    const wrongKey = await sign(k1b); // same kid, other key: bad signature
    expect(await outcome(verifier.verify(wrongKey))).toBe(
      'InvalidToken: Token signature is invalid',
    );
    expect(await outcome(verifier.verify(wrongKey))).toBe(
      'InvalidToken: Token signature is invalid',
    );
    expect(real.calls).toBe(4);
    expect(cache.size).toBe(0);

    // JWKS unreachable at first: 503, not cached; the same token then passes and is cached
    const s2 = setup();
    s2.fetcher.fail = new AuthBackendUnavailable('down');
    const t = await sign(k1);
    expect(await outcome(s2.verifier.verify(t))).toBe('AuthBackendUnavailable');
    expect(s2.cache.size).toBe(0);
    s2.fetcher.fail = undefined;
    expect(await outcome(s2.verifier.verify(t))).toBe('ok');
    expect(await outcome(s2.verifier.verify(t))).toBe('ok');
    expect(s2.real.calls).toBe(2);
  });

  it('is emptied when the JWKS loses a key; a new key alone keeps it', async () => {
    const { verifier, real, cache, fetcher, jwks, clock } = setup({ keys: [k1] });
    const t1 = await sign(k1);
    await verifier.verify(t1);
    expect(cache.size).toBe(1);

    // k2 published ahead of a rotation: k1 still there, entries stay
    fetcher.keys = [k1.jwk, k2.jwk];
    await jwks.refresh();
    expect(cache.size).toBe(1);
    await verifier.verify(t1);
    expect(real.calls).toBe(1);

    // the same keys in another order and member order: no change
    fetcher.keys = [k2.jwk, Object.fromEntries(Object.entries(k1.jwk).reverse())];
    await jwks.refresh();
    expect(cache.size).toBe(1);

    // k1 retired: everything verified with the old set is dropped, the token is refused
    fetcher.keys = [k2.jwk];
    await jwks.refresh();
    expect(cache.size).toBe(0);
    expect(await outcome(verifier.verify(t1))).toBe('InvalidToken: Token signing key is not known');
    expect(real.calls).toBe(2);

    // same kid, other key material: also a removal
    const t2 = await sign(k2);
    await verifier.verify(t2);
    expect(cache.size).toBe(1);
    clock.advance(30_000);
    fetcher.keys = [{ ...k1b.jwk, kid: 'k2' }];
    await jwks.refresh();
    expect(cache.size).toBe(0);
    expect(await outcome(verifier.verify(t2))).toBe('InvalidToken: Token signature is invalid');
  });

  it('a verification that was in flight across a clear is not cached', async () => {
    const clock = new ManualClock(NOW_S * 1000);
    const cache = new VerifiedTokenCache(clock, {
      maxEntries: 10,
      maxTtlMs: 60_000,
      clockToleranceSeconds: 5,
    });
    let release: (p: Principal) => void = () => undefined;
    const slow: TokenVerifier = {
      verify: () =>
        new Promise<Principal>((r) => {
          release = r;
        }),
    };
    const verifier = new CachingTokenVerifier(slow, cache);
    const pending = verifier.verify('a.b.c');
    cache.clear(); // e.g. the JWKS lost a key meanwhile
    release({
      via: 'jwt',
      tenant: 't1',
      userId: 'u1',
      keyId: 'k1',
      scopes: [],
      validUntil: new Date((NOW_S + 300) * 1000),
    });
    await pending;
    expect(cache.size).toBe(0);
  });

  it('concurrent misses on one token share one verification, its failure too', async () => {
    const { verifier, real, cache } = setup();
    const t = await sign(k1);
    const results = await Promise.all([1, 2, 3, 4].map(() => outcome(verifier.verify(t))));
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(real.calls).toBe(1);
    expect(cache.size).toBe(1);
    expect(verifier.inFlight).toBe(0);
    // Failures are shared by the requests in flight with the same token, and never cached.
    const bad = `${t.slice(0, -4)}AAAA`;
    const failed = await Promise.all([1, 2, 3].map(() => outcome(verifier.verify(bad))));
    expect(new Set(failed)).toEqual(new Set(['InvalidToken: Token signature is invalid']));
    expect(real.calls).toBe(2);
    await outcome(verifier.verify(bad));
    expect(real.calls).toBe(3);
    // Different tokens are never coalesced.
    await Promise.all([
      verifier.verify(await sign(k1, { sub: 'u-a' })),
      verifier.verify(await sign(k1, { sub: 'u-b' })),
    ]);
    expect(real.calls).toBe(5);
  });

  it('a request after a cache clear does not join a verification that started before it', async () => {
    const { clock } = setup();
    const cache = new VerifiedTokenCache(clock, {
      maxEntries: 10,
      maxTtlMs: 60_000,
      clockToleranceSeconds: 5,
    });
    const releases: ((p: Principal) => void)[] = [];
    const slow: TokenVerifier = {
      verify: () => new Promise<Principal>((r) => releases.push(r)),
    };
    const verifier = new CachingTokenVerifier(slow, cache);
    const before = verifier.verify('a.b.c');
    const joined = verifier.verify('a.b.c');
    expect(releases).toHaveLength(1);
    cache.clear(); // e.g. the JWKS lost a key meanwhile
    const after = verifier.verify('a.b.c');
    expect(releases).toHaveLength(2);
    const principal = (userId: string): Principal => ({
      via: 'jwt',
      tenant: 't1',
      userId,
      keyId: 'k1',
      scopes: [],
      validUntil: new Date((NOW_S + 300) * 1000),
    });
    releases[0]!(principal('old'));
    releases[1]!(principal('new'));
    expect((await before).userId).toBe('old');
    expect((await joined).userId).toBe('old');
    expect((await after).userId).toBe('new');
    // Only the verification started after the clear was stored.
    await expect(verifier.verify('a.b.c')).resolves.toMatchObject({ userId: 'new' });
  });

  it('a revoked key_id is refused on a cache hit too (the check runs on every request)', async () => {
    const { verifier, real, clock } = setup();
    const revoked = loadedRevokedKeys(clock);
    const noKeys: ApiKeyVerifier = {
      verify: () => Promise.reject(new Error('not used')),
    };
    const authn = new Authenticator(
      noKeys,
      verifier,
      { maxAuthorizationBytes: 4096, realm: 'edge' },
      revoked,
    );
    const t = await sign(k1, { key_id: 'key-9' });
    const allowed = await authn.decide([`Bearer ${t}`], DEFAULT_POLICY);
    expect(allowed.kind).toBe('allow');
    revoked.add('key-9');
    const denied = await authn.decide([`Bearer ${t}`], DEFAULT_POLICY);
    expect(denied).toMatchObject({ kind: 'deny', status: 401, code: 'RevokedKey' });
    expect(real.calls).toBe(1); // the second request was a cache hit, and still refused
    // other key_ids are unaffected
    const other = await authn.decide([`Bearer ${await sign(k1, { key_id: 'key-8' })}`], {
      requiredScopes: [{ resource: 'echo', action: 'read' }],
      public: false,
    });
    expect(other.kind).toBe('allow');
  });
});
