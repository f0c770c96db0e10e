import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time equality for two byte strings of any length. Both sides are first reduced to
 * SHA-256 digests so `timingSafeEqual` always compares 32 bytes and the length of the expected
 * value does not leak through an early return.
 */
export function constantTimeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
