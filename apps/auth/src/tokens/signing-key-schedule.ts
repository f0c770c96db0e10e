/** What the schedule needs of a stored signing key. */
export interface ScheduledKey {
  kid: string;
  activatesAt: Date;
}

export interface ScheduleSettings {
  /** How long a key signs before its successor takes over. */
  rotationMs: number;
  /** How long a new key is published in the JWKS before it signs anything. */
  publishAheadMs: number;
  /** Access-token lifetime: how long after its last use a key must stay published. */
  tokenTtlMs: number;
}

export interface SchedulePlan {
  /** The key that signs now (latest activated), if any. */
  signingKid: string | undefined;
  /** Activation instants of keys to create now (at most one). */
  create: Date[];
  /** Keys whose successor took over long enough ago that no valid token can name them. */
  prune: string[];
}

const byActivation = (a: ScheduledKey, b: ScheduledKey) =>
  a.activatesAt.getTime() - b.activatesAt.getTime();

/** The key that signs at `now`: the last one whose activation has passed. */
export function signingKeyAt<K extends ScheduledKey>(keys: readonly K[], now: Date): K | undefined {
  let best: K | undefined;
  for (const k of keys) {
    if (k.activatesAt.getTime() <= now.getTime()) {
      if (!best || k.activatesAt.getTime() > best.activatesAt.getTime()) best = k;
    }
  }
  return best;
}

/**
 * The signing-key schedule (pure).
 *
 * - A fresh deployment gets one key that signs at once (no token can exist yet).
 * - Once the signing key has signed for `rotation - publishAhead`, a successor is created with
 *   activation at `max(current.activatesAt + rotation, now + publishAhead)`: it is in the JWKS
 *   at least `publishAhead` before the first token names it, so verifiers that cached the JWKS
 *   have time to refresh.
 * - A key stops signing when its successor activates and stays published for the token
 *   lifetime plus `publishAhead` (margin for replicas switching late and clock skew); then it
 *   is pruned.
 */
export function planSigningKeys(
  keys: readonly ScheduledKey[],
  now: Date,
  s: ScheduleSettings,
): SchedulePlan {
  const t = now.getTime();
  const sorted = [...keys].sort(byActivation);
  const current = signingKeyAt(sorted, now);
  const create: Date[] = [];
  const pending = sorted.filter((k) => k.activatesAt.getTime() > t);
  if (!current) {
    if (pending.length === 0) create.push(new Date(t));
  } else if (
    pending.length === 0 &&
    t >= current.activatesAt.getTime() + s.rotationMs - s.publishAheadMs
  ) {
    create.push(
      new Date(Math.max(current.activatesAt.getTime() + s.rotationMs, t + s.publishAheadMs)),
    );
  }
  const prune: string[] = [];
  sorted.forEach((k, i) => {
    const successor = sorted[i + 1];
    if (successor && t >= successor.activatesAt.getTime() + s.tokenTtlMs + s.publishAheadMs) {
      // Only keys superseded by a key that has itself activated.
      if (successor.activatesAt.getTime() <= t) prune.push(k.kid);
    }
  });
  return { signingKid: current?.kid, create, prune };
}
