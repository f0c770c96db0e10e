import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM envelope for signing private keys at rest: `version(1) | iv(12) | tag(16) | data`.
 * The key id is bound as additional authenticated data, so a ciphertext cannot be moved to
 * another row. The encryption key comes from configuration and is never stored in Postgres.
 */
export function encryptPrivateKey(plaintext: string, key: Buffer, kid: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), data]);
}

export function decryptPrivateKey(envelope: Buffer, key: Buffer, kid: string): string {
  if (envelope.length < 1 + IV_BYTES + TAG_BYTES || envelope[0] !== VERSION) {
    throw new Error(`signing key ${kid}: unsupported envelope`);
  }
  const iv = envelope.subarray(1, 1 + IV_BYTES);
  const tag = envelope.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(tag);
  const data = envelope.subarray(1 + IV_BYTES + TAG_BYTES);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
}
