import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthBackendUnavailable, AuthnFailure } from '../authn/authn-error';
import { ManualClock } from '../testing/manual-clock';
import { silentLogger } from '../logging/logger';
import {
  AUDIENCE,
  FakeJwksFetcher,
  ISSUER,
  NOW_S,
  sign,
  type TestKey,
  testKey,
  unsignedToken,
} from '../testing/jwt-fixtures';
import { JwksCache } from './jwks.cache';
import { JwtVerifier } from './jwt-verifier';

let k1: TestKey;
let k2: TestKey;
let rsa: TestKey;
let attacker: TestKey;

beforeAll(async () => {
  [k1, k2, rsa, attacker] = await Promise.all([
    testKey('k1'),
    testKey('k2'),
    testKey('r1', 'RS256'),
    testKey('k1'), // same kid as k1, different key
  ]);
});

function setup(keys = [k1.jwk], opts: { cooldownMs?: number; maxAgeMs?: number } = {}) {
  const clock = new ManualClock(NOW_S * 1000);
  const fetcher = new FakeJwksFetcher(keys);
  const jwks = new JwksCache(fetcher, clock, silentLogger, {
    maxAgeMs: opts.maxAgeMs ?? 600_000,
    cooldownMs: opts.cooldownMs ?? 30_000,
  });
  const verifier = new JwtVerifier(jwks, clock, {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['ES256', 'RS256', 'EdDSA'],
    clockToleranceSeconds: 5,
    maxTtlSeconds: 3_600,
  });
  return { clock, fetcher, jwks, verifier };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AuthnFailure) return `${e.code}: ${e.sentence}`;
    if (e instanceof AuthBackendUnavailable) return e.code;
    throw e;
  }
  return 'ok';
}

describe('JwtVerifier', () => {
  it('accepts a good token and maps its claims', async () => {
    const { verifier } = setup();
    const p = await verifier.verify(
      await sign(k1, { scopes: ['echo:read', { resource: 'keys', action: 'write' }] }),
    );
    expect(p).toEqual({
      via: 'jwt',
      tenant: 't1',
      userId: 'u1',
      keyId: 'k1',
      scopes: [
        { resource: 'echo', action: 'read' },
        { resource: 'keys', action: 'write' },
      ],
      validUntil: new Date((NOW_S + 300) * 1000),
      issuedAt: new Date((NOW_S - 10) * 1000),
    });
  });

  it('accepts RS256 and an OAuth scope string; drops malformed scopes', async () => {
    const { verifier } = setup([k1.jwk, rsa.jwk]);
    const p = await verifier.verify(
      await sign(rsa, { scopes: undefined, scope: 'echo:read bad,scope x:y\ninjected' }),
    );
    expect(p.scopes).toEqual([{ resource: 'echo', action: 'read' }]);
  });

  it('rejects alg none', async () => {
    const { verifier } = setup();
    const t = unsignedToken(
      { sub: 'u1', tenant: 't1', iss: ISSUER, aud: AUDIENCE, exp: NOW_S + 60 },
      'k1',
    );
    expect(await code(verifier.verify(t))).toMatch(/^InvalidToken/);
  });

  it('rejects HS256 signed with the public key as a shared secret', async () => {
    const { verifier } = setup();
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k1' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ sub: 'u1', tenant: 't1', iss: ISSUER, aud: AUDIENCE, exp: NOW_S + 60 }),
    ).toString('base64url');
    const mac = createHmac('sha256', JSON.stringify(k1.jwk))
      .update(`${header}.${body}`)
      .digest('base64url');
    expect(await code(verifier.verify(`${header}.${body}.${mac}`))).toBe(
      'InvalidToken: Token algorithm is not allowed',
    );
  });

  it('rejects a wrong signature (same kid, other key)', async () => {
    const { verifier } = setup();
    expect(await code(verifier.verify(await sign(attacker)))).toBe(
      'InvalidToken: Token signature is invalid',
    );
  });

  it('rejects a wrong issuer or audience', async () => {
    const { verifier } = setup();
    expect(await code(verifier.verify(await sign(k1, {}, { iss: 'evil' })))).toBe(
      'InvalidToken: Token claim check failed (iss)',
    );
    expect(await code(verifier.verify(await sign(k1, {}, { aud: 'other' })))).toBe(
      'InvalidToken: Token claim check failed (aud)',
    );
  });

  it('rejects an expired token, within the clock tolerance it still passes', async () => {
    const { verifier, clock } = setup();
    const t = await sign(k1, {}, { exp: NOW_S + 10 });
    clock.advance(14_000);
    expect(await code(verifier.verify(t))).toBe('ok');
    clock.advance(2_000);
    expect(await code(verifier.verify(t))).toMatch(/^ExpiredToken/);
  });

  it('rejects garbage and tokens without tenant', async () => {
    const { verifier } = setup();
    expect(await code(verifier.verify('not.a.jwt'))).toMatch(/^InvalidToken/);
    expect(await code(verifier.verify(await sign(k1, { tenant: undefined })))).toBe(
      'InvalidToken: Token has no tenant',
    );
  });

  it('an unknown kid triggers one JWKS refetch, then the cooldown rate-limits refetches', async () => {
    const { verifier, fetcher, clock } = setup([k1.jwk], { cooldownMs: 30_000 });
    await verifier.verify(await sign(k1));
    expect(fetcher.calls).toBe(1);
    // auth rotated: k2 is published now
    fetcher.keys = [k1.jwk, k2.jwk];
    // ...but the first fetch just happened: within the cooldown an unknown kid is not refetched
    expect(await code(verifier.verify(await sign(k2)))).toBe(
      'InvalidToken: Token signing key is not known',
    );
    expect(fetcher.calls).toBe(1);
    clock.advance(30_000);
    expect(await code(verifier.verify(await sign(k2)))).toBe('ok');
    expect(fetcher.calls).toBe(2);
    // random kids from an attacker cost at most one fetch per cooldown
    const bogus = await Promise.all([1, 2, 3].map((i) => sign(k1, {}, { kid: `nope${i}` })));
    clock.advance(30_000);
    for (const t of bogus) expect(await code(verifier.verify(t))).toMatch(/^InvalidToken/);
    expect(fetcher.calls).toBe(3);
  });

  it('coalesces concurrent refetches', async () => {
    const { verifier, fetcher } = setup();
    const t = await sign(k1);
    await Promise.all([1, 2, 3, 4].map(() => verifier.verify(t)));
    expect(fetcher.calls).toBe(1);
  });

  it('refetches a stale key set, keeping the old one when the refetch fails', async () => {
    const { verifier, fetcher, clock } = setup([k1.jwk], { maxAgeMs: 60_000 });
    const t = await sign(k1);
    await verifier.verify(t);
    clock.advance(60_000);
    fetcher.fail = new AuthBackendUnavailable('down');
    expect(await code(verifier.verify(t))).toBe('ok');
    expect(fetcher.calls).toBe(2);
  });

  it('fails closed (503) when no JWKS can be fetched at all', async () => {
    const { verifier, fetcher } = setup();
    fetcher.fail = new AuthBackendUnavailable('down');
    expect(await code(verifier.verify(await sign(k1)))).toBe('AuthBackendUnavailable');
  });
});
