import { SecretHasher } from './key-secrets';

export type KeyStatus = 'active' | 'revoked';

/** What verification needs of a stored key. */
export interface StoredSecretState {
  status: KeyStatus;
  secretHash: Buffer;
  previousSecretHash: Buffer | null;
  previousSecretExpiresAt: Date | null;
  expiresAt: Date | null;
}

export type VerificationResult = 'ok' | 'unknown_key' | 'wrong_secret' | 'revoked' | 'expired';

export interface VerificationDecision {
  result: VerificationResult;
  /** True when the secret matched the previous (rotated-out, still in grace) secret. */
  matchedPrevious: boolean;
  /**
   * Seconds a positive result may be cached: at most `maxCacheTtlSeconds`, never past the key's
   * expiry, nor past the grace deadline when the old secret was used. 0 on any failure.
   */
  cacheTtlSeconds: number;
  /** When this credential stops being valid (expiry or grace deadline), if ever. */
  validUntil: Date | null;
}

const FAIL = (result: VerificationResult): VerificationDecision => ({
  result,
  matchedPrevious: false,
  cacheTtlSeconds: 0,
  validUntil: null,
});

// Compared against when the key is unknown, so both paths do the same work.
const DUMMY_HASH = Buffer.alloc(32);

/**
 * Pure decision for a presented secret (already hashed) against a stored key. The secret is
 * checked first: someone without a valid secret learns only "wrong secret", never whether the
 * key is revoked or expired.
 */
export function decideVerification(
  key: StoredSecretState | undefined,
  presentedHash: Buffer,
  now: Date,
  maxCacheTtlSeconds: number,
): VerificationDecision {
  if (!key) {
    SecretHasher.equal(presentedHash, DUMMY_HASH);
    return FAIL('unknown_key');
  }
  const current = SecretHasher.equal(presentedHash, key.secretHash);
  const previous =
    !current &&
    key.previousSecretExpiresAt !== null &&
    key.previousSecretExpiresAt.getTime() > now.getTime() &&
    SecretHasher.equal(presentedHash, key.previousSecretHash);
  if (!current && !previous) return FAIL('wrong_secret');
  if (key.status === 'revoked') return FAIL('revoked');
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return FAIL('expired');

  const deadlines = [key.expiresAt, previous ? key.previousSecretExpiresAt : null].filter(
    (d): d is Date => d !== null,
  );
  const validUntil =
    deadlines.length === 0 ? null : new Date(Math.min(...deadlines.map((d) => d.getTime())));
  const untilDeadline =
    validUntil === null
      ? Number.POSITIVE_INFINITY
      : Math.floor((validUntil.getTime() - now.getTime()) / 1000);
  return {
    result: 'ok',
    matchedPrevious: previous,
    cacheTtlSeconds: Math.max(0, Math.min(maxCacheTtlSeconds, untilDeadline)),
    validUntil,
  };
}

/** New secret state after a rotation with a grace period (0 = old secret dies at once). */
export function rotateSecret(
  newHash: Buffer,
  currentHash: Buffer,
  graceSeconds: number,
  now: Date,
): Pick<StoredSecretState, 'secretHash' | 'previousSecretHash' | 'previousSecretExpiresAt'> {
  if (graceSeconds <= 0) {
    return { secretHash: newHash, previousSecretHash: null, previousSecretExpiresAt: null };
  }
  return {
    secretHash: newHash,
    previousSecretHash: currentHash,
    previousSecretExpiresAt: new Date(now.getTime() + graceSeconds * 1000),
  };
}
