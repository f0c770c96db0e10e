import { type Clock } from '@edge/auth-contract';
import { AuthBackendUnavailable } from '../authn/authn-error';

export interface RevokedKeysOptions {
  /** How long a revocation is remembered: JWT_MAX_TTL_SECONDS (+ clock tolerance). */
  readonly ttlMs: number;
}

/**
 * Key ids revoked within the longest token lifetime, so JWTs exchanged for a revoked key are
 * refused at once, not at their expiry. Filled at start from the auth service's list
 * (ListRevokedKeys), then by REVOKED events; until the first list is in, `isRevoked` fails
 * closed (503), so a processor that just started cannot accept a revoked key's token.
 *
 * Bounded by time, not by count: an entry lives `ttlMs` after its revocation (a token of a key
 * revoked earlier has expired), then goes. No LRU: another tenant creating and revoking many
 * keys cannot push a revocation out. Memory is revocations per token lifetime, ~100 bytes each
 * (1 M revocations an hour = ~100 MB with a one-hour lifetime); the auth service's per-tenant
 * key quota and rate limits bound how fast keys can be created and revoked.
 */
export class RevokedKeys {
  /** keyId -> revoked at (epoch ms), roughly in revocation order. */
  private readonly revokedAt = new Map<string, number>();
  private ready = false;

  constructor(
    private readonly clock: Clock,
    private readonly opts: RevokedKeysOptions,
  ) {}

  /** True once the first list from the auth service is in. */
  get loaded(): boolean {
    return this.ready;
  }

  /** Applies a list of revocations (start / re-list) and marks the set loaded. */
  load(keys: readonly { readonly keyId: string; readonly revokedAtMs: number }[]): void {
    for (const k of keys) this.add(k.keyId, k.revokedAtMs);
    this.ready = true;
  }

  add(keyId: string, revokedAtMs: number = this.clock.nowMs()): void {
    const prev = this.revokedAt.get(keyId);
    if (prev !== undefined && prev <= revokedAtMs) return;
    this.revokedAt.delete(keyId);
    this.revokedAt.set(keyId, revokedAtMs);
    this.sweep();
  }

  isRevoked(keyId: string): boolean {
    if (!this.ready) {
      throw new AuthBackendUnavailable('The list of revoked keys is not loaded yet');
    }
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

  /** Drops expired entries from the front (insertion order is about revocation order). */
  private sweep(): void {
    const cutoff = this.clock.nowMs() - this.opts.ttlMs;
    for (const [k, at] of this.revokedAt) {
      if (at > cutoff) break;
      this.revokedAt.delete(k);
    }
  }
}
