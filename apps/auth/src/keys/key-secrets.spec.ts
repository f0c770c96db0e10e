import { describe, expect, it } from 'vitest';
import { RandomSource } from '../common/random';
import {
  isWellFormedKeyId,
  isWellFormedSecret,
  KeyMaterialGenerator,
  SecretHasher,
} from './key-secrets';

const hasher = (pepper = 'p'.repeat(32)) => new SecretHasher({ API_KEY_PEPPER: pepper });

describe('KeyMaterialGenerator', () => {
  const gen = new KeyMaterialGenerator(new RandomSource());

  it('makes well-formed, distinct key ids and 256-bit base64url secrets', () => {
    const ids = new Set(Array.from({ length: 50 }, () => gen.keyId()));
    const secrets = new Set(Array.from({ length: 50 }, () => gen.secret()));
    expect(ids.size).toBe(50);
    expect(secrets.size).toBe(50);
    for (const id of ids) expect(isWellFormedKeyId(id)).toBe(true);
    for (const s of secrets) {
      expect(isWellFormedSecret(s)).toBe(true);
      expect(Buffer.from(s, 'base64url')).toHaveLength(32);
    }
  });

  it('uses the injected randomness', () => {
    const fixed = new KeyMaterialGenerator({
      bytes: (n: number) => Buffer.alloc(n, 0xab),
      uuid: () => 'x',
    });
    expect(fixed.keyId()).toBe('ak_' + 'ab'.repeat(16));
    expect(fixed.secret()).toBe(Buffer.alloc(32, 0xab).toString('base64url'));
  });

  it('rejects malformed ids and secrets', () => {
    expect(isWellFormedKeyId('ak_xyz')).toBe(false);
    expect(isWellFormedKeyId('AK_' + 'a'.repeat(32))).toBe(false);
    expect(isWellFormedSecret('a:b')).toBe(false);
    expect(isWellFormedSecret('a'.repeat(44))).toBe(false);
  });
});

describe('SecretHasher', () => {
  it('is deterministic per pepper, 32 bytes, and never the secret itself', () => {
    const h = hasher();
    const a = h.hash('secret-one');
    expect(a).toHaveLength(32);
    expect(h.hash('secret-one').equals(a)).toBe(true);
    expect(h.hash('secret-two').equals(a)).toBe(false);
    expect(hasher('q'.repeat(32)).hash('secret-one').equals(a)).toBe(false);
    expect(a.toString('utf8')).not.toContain('secret-one');
  });

  it('compares in constant time and fails closed on missing or odd-sized hashes', () => {
    const h = hasher();
    expect(SecretHasher.equal(h.hash('x'), h.hash('x'))).toBe(true);
    expect(SecretHasher.equal(h.hash('x'), h.hash('y'))).toBe(false);
    expect(SecretHasher.equal(h.hash('x'), null)).toBe(false);
    expect(SecretHasher.equal(h.hash('x'), Buffer.alloc(16))).toBe(false);
  });
});
