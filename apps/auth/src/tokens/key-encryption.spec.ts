import { describe, expect, it } from 'vitest';
import { decryptPrivateKey, encryptPrivateKey } from './key-encryption';

const key = Buffer.alloc(32, 7);

describe('signing key encryption', () => {
  it('round-trips and hides the plaintext', () => {
    const env = encryptPrivateKey('-----BEGIN PRIVATE KEY-----abc', key, 'kid1');
    expect(env.toString('utf8')).not.toContain('PRIVATE KEY');
    expect(decryptPrivateKey(env, key, 'kid1')).toBe('-----BEGIN PRIVATE KEY-----abc');
  });

  it('fails with the wrong key, the wrong kid or a tampered envelope', () => {
    const env = encryptPrivateKey('secret', key, 'kid1');
    expect(() => decryptPrivateKey(env, Buffer.alloc(32, 8), 'kid1')).toThrow();
    expect(() => decryptPrivateKey(env, key, 'kid2')).toThrow();
    const tampered = Buffer.from(env);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => decryptPrivateKey(tampered, key, 'kid1')).toThrow();
    expect(() => decryptPrivateKey(Buffer.from([9]), key, 'kid1')).toThrow(/unsupported/);
  });
});
