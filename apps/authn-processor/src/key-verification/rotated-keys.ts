import { type Clock } from '@edge/auth-contract';

export interface RotatedKeysOptions {
  /** How long a rotation matters: JWT_MAX_TTL_SECONDS (+ clock tolerance), as for RevokedKeys. */
  readonly ttlMs: number;
}

/** The cut-off for a rotation at `rotatedAtMs`: the next whole second (`iat` has whole seconds). */
export function rotationCutOffMs(rotatedAtMs: number): number {
  return (Math.floor(rotatedAtMs / 1000) + 1) * 1000;
}

/**
 * The rotation cut-off per key_id: a token of that key issued (`iat`) before the cut-off was
 * minted with a secret that has since been rotated out, and is refused. The cut-off is the next
 * whole second after the rotation, the same rule the auth service applies (it also issues later
 * tokens with `iat` >= the cut-off). Filled at start from ListRevokedKeys' `rotated` list (the
 * auth service's `tokens_not_before` of keys rotated within the token lifetime), then by
 * ROTATED events (their `at`).
 *
 * Bounded by time, not by count, like RevokedKeys: an entry lives `ttlMs` after its cut-off (a
 * token issued before it has expired by then), then goes. No LRU: another tenant rotating many
 * keys cannot push a rotation out. Memory is rotations per token lifetime, ~100 bytes each;
 * the auth service's per-tenant key quota and rate limits bound how fast keys can be rotated.
 */
export class RotatedKeys {
  /** keyId -> cut-off (epoch ms), roughly in rotation order. */
  private readonly cutOffMs = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: RotatedKeysOptions,
  ) {}

  /** A rotation at `rotatedAtMs` (a ROTATED event's `at`). */
  add(keyId: string, rotatedAtMs: number): void {
    this.addCutOff(keyId, rotationCutOffMs(rotatedAtMs));
  }

  /** Cut-offs as the auth service lists them (`tokens_not_before`, start / re-list). */
  load(keys: readonly { readonly keyId: string; readonly notBeforeMs: number }[]): void {
    for (const k of keys) this.addCutOff(k.keyId, k.notBeforeMs);
  }

  /** True when a token of `keyId` issued at `issuedAtMs` predates the key's last rotation. */
  issuedBeforeRotation(keyId: string, issuedAtMs: number | undefined): boolean {
    const cutOff = this.cutOffMs.get(keyId);
    if (cutOff === undefined) return false;
    if (this.clock.nowMs() - cutOff >= this.opts.ttlMs) {
      this.cutOffMs.delete(keyId);
      return false;
    }
    // A token without iat cannot show it came after the rotation.
    return issuedAtMs === undefined || issuedAtMs < cutOff;
  }

  get size(): number {
    return this.cutOffMs.size;
  }

  private addCutOff(keyId: string, cutOffMs: number): void {
    const prev = this.cutOffMs.get(keyId);
    // An older rotation arriving late (a re-list) never lowers the cut-off.
    if (prev !== undefined && prev >= cutOffMs) return;
    this.cutOffMs.delete(keyId);
    this.cutOffMs.set(keyId, cutOffMs);
    this.sweep();
  }

  /** Drops expired entries from the front (insertion order is about rotation order). */
  private sweep(): void {
    const expired = this.clock.nowMs() - this.opts.ttlMs;
    for (const [k, cutOff] of this.cutOffMs) {
      if (cutOff > expired) break;
      this.cutOffMs.delete(k);
    }
  }
}
