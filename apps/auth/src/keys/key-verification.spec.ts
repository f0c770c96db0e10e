import { describe, expect, it } from 'vitest';
import { SecretHasher } from './key-secrets';
import { decideVerification, rotateSecret, type StoredSecretState } from './key-verification';

const h = new SecretHasher({ API_KEY_PEPPER: 'p'.repeat(32) });
const now = new Date('2030-01-01T00:00:00Z');
const at = (s: number) => new Date(now.getTime() + s * 1000);

const key = (over: Partial<StoredSecretState> = {}): StoredSecretState => ({
  status: 'active',
  secretHash: h.hash('current'),
  previousSecretHash: null,
  previousSecretExpiresAt: null,
  expiresAt: null,
  ...over,
});

describe('decideVerification', () => {
  it('accepts the current secret, cache bounded by the configured maximum', () => {
    expect(decideVerification(key(), h.hash('current'), now, 60)).toEqual({
      result: 'ok',
      matchedPrevious: false,
      cacheTtlSeconds: 60,
      validUntil: null,
    });
  });

  it('reports unknown keys and wrong secrets', () => {
    expect(decideVerification(undefined, h.hash('x'), now, 60).result).toBe('unknown_key');
    expect(decideVerification(key(), h.hash('nope'), now, 60).result).toBe('wrong_secret');
  });

  it('checks the secret before revealing revoked or expired', () => {
    const revoked = key({ status: 'revoked' });
    expect(decideVerification(revoked, h.hash('nope'), now, 60).result).toBe('wrong_secret');
    expect(decideVerification(revoked, h.hash('current'), now, 60).result).toBe('revoked');
    const expired = key({ expiresAt: at(0) });
    expect(decideVerification(expired, h.hash('nope'), now, 60).result).toBe('wrong_secret');
    expect(decideVerification(expired, h.hash('current'), now, 60).result).toBe('expired');
  });

  it('bounds the cache TTL by the expiry', () => {
    const d = decideVerification(key({ expiresAt: at(10.5) }), h.hash('current'), now, 60);
    expect(d).toMatchObject({ result: 'ok', cacheTtlSeconds: 10, validUntil: at(10.5) });
  });

  it('accepts the previous secret only within its grace period, TTL bounded by it', () => {
    const rotated = key({
      ...rotateSecret(h.hash('new'), h.hash('current'), 30, now),
    });
    expect(decideVerification(rotated, h.hash('new'), now, 60)).toMatchObject({
      result: 'ok',
      matchedPrevious: false,
      cacheTtlSeconds: 60,
    });
    expect(decideVerification(rotated, h.hash('current'), now, 60)).toMatchObject({
      result: 'ok',
      matchedPrevious: true,
      cacheTtlSeconds: 30,
    });
    expect(decideVerification(rotated, h.hash('current'), at(29), 60).cacheTtlSeconds).toBe(1);
    expect(decideVerification(rotated, h.hash('current'), at(30), 60).result).toBe('wrong_secret');
  });

  it('takes the earlier of expiry and grace deadline', () => {
    const k = key({ ...rotateSecret(h.hash('new'), h.hash('current'), 30, now), expiresAt: at(5) });
    expect(decideVerification(k, h.hash('current'), now, 60)).toMatchObject({
      cacheTtlSeconds: 5,
      validUntil: at(5),
    });
  });
});

describe('rotateSecret', () => {
  it('keeps the old hash for the grace period', () => {
    expect(rotateSecret(h.hash('n'), h.hash('o'), 10, now)).toEqual({
      secretHash: h.hash('n'),
      previousSecretHash: h.hash('o'),
      previousSecretExpiresAt: at(10),
    });
  });

  it('drops the old hash at once with no grace', () => {
    expect(rotateSecret(h.hash('n'), h.hash('o'), 0, now)).toEqual({
      secretHash: h.hash('n'),
      previousSecretHash: null,
      previousSecretExpiresAt: null,
    });
  });
});
