import { type Clock } from '@edge/auth-contract';

export interface RevokedKeysOptions {
  readonly maxEntries: number;
  /** How long a revocation is remembered: the longest lifetime of a token issued for a key. */
  readonly ttlMs: number;
}

/**
 * Key ids revoked while this process was watching (REVOKED events), remembered for the
 * longest token lifetime, so JWTs exchanged for a revoked key stop working at once too rather
 * than at their expiry. Bounded: the oldest revocation is forgotten first. Revocations that
 * happened before this process subscribed are not known here (tokens are short-lived).
 */
export class RevokedKeys {
  private readonly revokedAt = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: RevokedKeysOptions,
  ) {}

  add(keyId: string): void {
    this.revokedAt.delete(keyId);
    this.revokedAt.set(keyId, this.clock.nowMs());
    while (this.revokedAt.size > this.opts.maxEntries) {
      const oldest = this.revokedAt.keys().next();
      if (oldest.done === true) break;
      this.revokedAt.delete(oldest.value);
    }
  }

  isRevoked(keyId: string): boolean {
    const at = this.revokedAt.get(keyId);
    if (at === undefined) return false;
    if (this.clock.nowMs() - at >= this.opts.ttlMs) {
      this.revokedAt.delete(keyId);
      return false;
    }
    return true;
  }

  get size(): number {
    return this.revokedAt.size;
  }
}
