import { describe, expect, it } from 'vitest';
import { type Principal } from '@edge/auth-contract';
import { accessTokenClaims, principalFromClaims, tokenTimes } from './claims';

const now = new Date('2030-01-01T00:00:00.700Z');
const epoch = Math.floor(now.getTime() / 1000);
const principal: Principal = {
  tenant: 't1',
  userId: 'u1',
  keyId: 'ak_1',
  scopes: [
    { resource: 'keys', action: 'read' },
    { resource: 'keys', action: 'write' },
  ],
  via: 'api_key',
  validUntil: null,
};

describe('token claims', () => {
  it('expire after the ttl', () => {
    expect(tokenTimes(now, 300, null)).toEqual({ iat: epoch, exp: epoch + 300 });
  });

  it('never outlive the credential that asked for them', () => {
    expect(tokenTimes(now, 300, new Date(now.getTime() + 60_000))).toEqual({
      iat: epoch,
      exp: epoch + 60,
    });
  });

  it("are issued no earlier than the key's rotation cut-off (the next whole second)", () => {
    const cut = new Date((epoch + 1) * 1000);
    expect(tokenTimes(now, 300, null, cut)).toEqual({ iat: epoch + 1, exp: epoch + 300 });
    expect(tokenTimes(now, 300, null, new Date((epoch - 50) * 1000))).toEqual({
      iat: epoch,
      exp: epoch + 300,
    });
  });

  it('carry tenant, key id and scopes as strings, and round-trip', () => {
    const claims = accessTokenClaims(principal);
    expect(claims).toEqual({ tenant: 't1', key_id: 'ak_1', scopes: ['keys:read', 'keys:write'] });
    expect(principalFromClaims({ ...claims, sub: 'u1', exp: epoch + 300 })).toEqual({
      ...principal,
      via: 'jwt',
      validUntil: new Date((epoch + 300) * 1000),
    });
  });

  it('reject payloads with missing or malformed claims', () => {
    const ok = { ...accessTokenClaims(principal), sub: 'u1', exp: epoch };
    expect(principalFromClaims({ ...ok, sub: undefined })).toBeUndefined();
    expect(principalFromClaims({ ...ok, tenant: 5 })).toBeUndefined();
    expect(principalFromClaims({ ...ok, scopes: 'keys:read' })).toBeUndefined();
    expect(principalFromClaims({ ...ok, scopes: ['keys'] })).toBeUndefined();
    expect(principalFromClaims({ ...ok, exp: undefined })).toBeUndefined();
  });
});
