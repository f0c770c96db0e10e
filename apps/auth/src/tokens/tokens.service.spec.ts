import {
  calculateJwkThumbprint,
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { Clock, type Principal } from '@edge/auth-contract';
import { RandomSource } from '../common/random';
import { type SigningKeysService } from './signing-keys.service';
import { TokensService } from './tokens.service';

const config = { JWT_ISSUER: 'edge-auth', JWT_AUDIENCE: 'edge', JWT_TTL_SECONDS: 300 };
const principal: Principal = {
  tenant: 't1',
  userId: 'u1',
  keyId: 'ak_1',
  scopes: [{ resource: 'keys', action: 'read' }],
  via: 'api_key',
  validUntil: null,
};

let now = new Date();
const clock: Clock = new (class extends Clock {
  now(): Date {
    return now;
  }
})();
let service: TokensService;
let kid: string;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  const jwk: JWK = await exportJWK(pair.publicKey);
  kid = await calculateJwkThumbprint(jwk);
  // An in-memory stand-in for the Postgres-backed key store (no I/O in unit tests).
  const keys = {
    version: 1,
    jwks: () => ({ keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] }),
    currentSigningKey: () => Promise.resolve({ kid, key: privateKey }),
  } as unknown as SigningKeysService;
  service = new TokensService(config, keys, clock, new RandomSource());
});

describe('TokensService', () => {
  it('issues ES256 tokens with kid, registered claims and the principal, and verifies them', async () => {
    now = new Date();
    const t = await service.issue(principal);
    expect(t).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    const [h, p] = t.access_token.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({
      alg: 'ES256',
      kid,
      typ: 'JWT',
    });
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    expect(payload).toMatchObject({
      iss: 'edge-auth',
      aud: 'edge',
      sub: 'u1',
      tenant: 't1',
      key_id: 'ak_1',
      scopes: ['keys:read'],
    });
    expect(payload.jti).toEqual(expect.any(String));
    const v = await service.verify(t.access_token);
    expect(v).toMatchObject({
      ok: true,
      principal: { ...principal, via: 'jwt', validUntil: new Date(payload.exp * 1000) },
    });
  });

  it('rejects expired tokens', async () => {
    now = new Date();
    const t = await service.issue(principal);
    now = new Date(now.getTime() + 301_000);
    expect(await service.verify(t.access_token)).toEqual({ ok: false, reason: 'token expired' });
  });

  it('rejects alg none, a wrong audience/issuer, a foreign key and garbage', async () => {
    now = new Date();
    const iat = Math.floor(now.getTime() / 1000);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = { sub: 'u1', tenant: 't1', key_id: 'ak_1', scopes: [], iat, exp: iat + 60 };
    const none = `${b64({ alg: 'none', kid })}.${b64({ ...claims, iss: 'edge-auth', aud: 'edge' })}.`;
    expect((await service.verify(none)).ok).toBe(false);

    const sign = (iss: string, aud: string, key: CryptoKey, k = kid) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: k })
        .setIssuer(iss)
        .setAudience(aud)
        .sign(key);
    expect(await service.verify(await sign('edge-auth', 'other', privateKey))).toEqual({
      ok: false,
      reason: 'invalid claim aud',
    });
    expect(await service.verify(await sign('evil', 'edge', privateKey))).toEqual({
      ok: false,
      reason: 'invalid claim iss',
    });
    const foreign = (await generateKeyPair('ES256')).privateKey;
    expect(await service.verify(await sign('edge-auth', 'edge', foreign))).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    expect(await service.verify(await sign('edge-auth', 'edge', foreign, 'other-kid'))).toEqual({
      ok: false,
      reason: 'unknown signing key',
    });
    expect((await service.verify('garbage')).ok).toBe(false);
  });

  it('never issues a token that outlives the credential', async () => {
    now = new Date();
    const t = await service.issue({ ...principal, validUntil: new Date(now.getTime() + 30_000) });
    expect(t.expires_in).toBeLessThanOrEqual(30);
    expect(t.expires_in).toBeGreaterThanOrEqual(29);
  });
});
