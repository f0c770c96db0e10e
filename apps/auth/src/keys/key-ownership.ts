/**
 * Who may manage which key, and what a key may hand out. Pure rules, no I/O:
 *
 * - A key manages (lists in detail, rotates, revokes) itself and its descendants: the keys it
 *   created, directly or through its children. Never an ancestor or a sibling; never a key of
 *   another tenant (callers also filter by tenant).
 * - Nothing a credential does can outlive it: a child key expires no later than the calling
 *   credential, and a rotation (a fresh secret for the target's remaining life) needs a
 *   credential that lives at least as long as the target (so a bearer token, or an old secret in
 *   its rotation grace period, cannot mint a longer-lived secret).
 * - A rotation ends the key's access tokens issued before it: `tokens_not_before` is the next
 *   whole second after the rotation, and tokens minted afterwards get `iat` >= it.
 */

/** How deep a chain of keys may go (root = depth 0). Bounds the stored ancestry. */
export const MAX_KEY_DEPTH = 16;

export interface KeyLineage {
  keyId: string;
  /** Root first; [] for a root key. */
  ancestorKeyIds: readonly string[];
}

/** True when `callerKeyId` is the target or one of its ancestors. */
export function manages(callerKeyId: string, target: KeyLineage): boolean {
  return target.keyId === callerKeyId || target.ancestorKeyIds.includes(callerKeyId);
}

/** The ancestry a child of `parent` gets. */
export function childAncestry(parent: KeyLineage): string[] {
  return [...parent.ancestorKeyIds, parent.keyId];
}

export type ExpiryDecision = { ok: true; expiresAt: Date | null } | { ok: false; reason: string };

/**
 * A child key's expiry: the requested lifetime, which may not go past the calling credential's
 * end (`callerValidUntil`: its key's expiry, the rotation grace deadline of an old secret, or a
 * token's `exp`); without a request it inherits that end.
 */
export function childExpiry(
  now: Date,
  requestedSeconds: number | undefined,
  callerValidUntil: Date | null,
): ExpiryDecision {
  const requested =
    requestedSeconds === undefined ? null : new Date(now.getTime() + requestedSeconds * 1000);
  if (!callerValidUntil) return { ok: true, expiresAt: requested };
  if (!requested) return { ok: true, expiresAt: callerValidUntil };
  if (requested.getTime() > callerValidUntil.getTime()) {
    return { ok: false, reason: 'a child key cannot outlive the calling credential' };
  }
  return { ok: true, expiresAt: requested };
}

/**
 * May a credential valid until `callerValidUntil` rotate a key that expires at
 * `targetExpiresAt`? The new secret lives as long as the target, so the caller must too.
 */
export function mayRotate(callerValidUntil: Date | null, targetExpiresAt: Date | null): boolean {
  if (!callerValidUntil) return true;
  if (!targetExpiresAt) return false;
  return targetExpiresAt.getTime() <= callerValidUntil.getTime();
}

/** The cut-off a rotation at `now` sets: the next whole second (tokens carry whole-second iat). */
export function tokensNotBeforeAfterRotation(now: Date): Date {
  return new Date((Math.floor(now.getTime() / 1000) + 1) * 1000);
}

/** May a token issued at `iatSeconds` still be used, given the key's rotation cut-off? */
export function issuedAfterCutOff(iatSeconds: number, tokensNotBefore: Date | null): boolean {
  return !tokensNotBefore || iatSeconds * 1000 >= tokensNotBefore.getTime();
}
