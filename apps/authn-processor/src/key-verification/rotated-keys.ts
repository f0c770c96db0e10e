import { type Clock } from '../common/clock';

export interface RotatedKeysOptions {
  readonly maxEntries: number;
  /** How long a rotation matters: the longest lifetime of a token issued for a key. */
  readonly ttlMs: number;
}

/**
 * The rotation cut-off per key_id, learnt from ROTATED events: a token of that key issued
 * (`iat`) before the cut-off was minted with a secret that has since been rotated out, and is
 * refused. The cut-off is the next whole second after the rotation (`iat` has whole seconds),
 * the same rule the auth service applies (it also issues later tokens with `iat` >= the
 * cut-off). Remembered for the longest token lifetime; bounded, oldest forgotten first.
 */
export class RotatedKeys {
  private readonly cutOffMs = new Map<string, { cutOffMs: number; seenAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: RotatedKeysOptions,
  ) {}

  /** `rotatedAtMs`: when the rotation happened (the event's `at`). */
  add(keyId: string, rotatedAtMs: number): void {
    const cutOffMs = (Math.floor(rotatedAtMs / 1000) + 1) * 1000;
    const prev = this.cutOffMs.get(keyId);
    this.cutOffMs.delete(keyId);
    this.cutOffMs.set(keyId, {
      cutOffMs: Math.max(cutOffMs, prev?.cutOffMs ?? 0),
      seenAt: this.clock.now(),
    });
    while (this.cutOffMs.size > this.opts.maxEntries) {
      const oldest = this.cutOffMs.keys().next();
      if (oldest.done === true) break;
      this.cutOffMs.delete(oldest.value);
    }
  }

  /** True when a token of `keyId` issued at `issuedAtMs` predates the key's last rotation. */
  issuedBeforeRotation(keyId: string, issuedAtMs: number | undefined): boolean {
    const entry = this.cutOffMs.get(keyId);
    if (entry === undefined) return false;
    if (this.clock.now() - entry.seenAt >= this.opts.ttlMs) {
      this.cutOffMs.delete(keyId);
      return false;
    }
    // A token without iat cannot show it came after the rotation.
    return issuedAtMs === undefined || issuedAtMs < entry.cutOffMs;
  }

  get size(): number {
    return this.cutOffMs.size;
  }
}
