import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import {
  Clock,
  missingScopes,
  normalizeScopes,
  type Principal,
  ROOT_SCOPES,
  type Scope,
  scopeToString,
} from '@edge/auth-contract';
import { forbidden, unauthenticated } from '../auth/errors';
import { RandomSource } from '../common/random';
import { AUTH_CONFIG, type AuthConfig } from '../config/config';
import { ApiKeyEntity, TenantEntity, UserEntity } from '../database/entities';
import { KeyEventsService } from '../key-events/key-events.service';
import { isWellFormedKeyId, KeyMaterialGenerator, SecretHasher } from './key-secrets';
import { decideVerification, rotateSecret, type VerificationDecision } from './key-verification';
import { decodeKeyCursor, encodeKeyCursor } from './key-cursor';
import {
  childAncestry,
  childExpiry,
  issuedAfterCutOff,
  manages,
  MAX_KEY_DEPTH,
  mayRotate,
  tokensNotBeforeAfterRotation,
} from './key-ownership';
import { keyView } from './key-view';
import {
  type KeyListDto,
  type KeyViewDto,
  type KeyWithSecretDto,
  type RotatedKeyDto,
} from './keys.dto';

export interface VerifiedKey extends VerificationDecision {
  key: ApiKeyEntity | undefined;
}

/** API keys: creation, listing, revocation, rotation and verification. */
@Injectable()
export class KeysService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(AUTH_CONFIG)
    private readonly config: Pick<
      AuthConfig,
      | 'VERIFY_CACHE_TTL_SECONDS'
      | 'MAX_ROTATION_GRACE_SECONDS'
      | 'MAX_KEYS_PER_TENANT'
      | 'KEYS_PAGE_DEFAULT'
      | 'KEYS_PAGE_MAX'
    >,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly material: KeyMaterialGenerator,
    private readonly hasher: SecretHasher,
  ) {}

  /** A new tenant with one user and a root key (keys:read, keys:write). */
  async createRootKey(): Promise<KeyWithSecretDto> {
    const now = this.clock.now();
    const tenantId = this.random.uuid();
    const userId = this.random.uuid();
    const secret = this.material.secret();
    const key = this.newKey({
      tenantId,
      userId,
      ancestorKeyIds: [],
      scopes: [...ROOT_SCOPES],
      secret,
      now,
      expiresAt: null,
    });
    await this.db.transaction(async (m) => {
      await m.insert(TenantEntity, { id: tenantId, name: null, createdAt: now });
      await m.insert(UserEntity, { id: userId, tenantId, createdAt: now });
      await m.insert(ApiKeyEntity, key);
    });
    return { ...keyView(key), secret };
  }

  /**
   * A child key of the calling key: scopes a subset of the caller's (403), expiry no later than
   * the calling credential (403), within the tenant's key quota (409) and the depth limit (400).
   * The caller's chain is locked and re-checked in the transaction, so a key whose ancestor is
   * being revoked cannot slip a new child past the cascade.
   */
  async createChildKey(
    caller: Principal,
    req: { scopes: Scope[]; expires_in_seconds?: number | undefined },
  ): Promise<KeyWithSecretDto> {
    const scopes = normalizeScopes(req.scopes);
    assertCovered(
      scopes,
      caller.scopes,
      "requested scopes are not a subset of the caller's scopes",
    );
    const now = this.clock.now();
    const expiry = childExpiry(now, req.expires_in_seconds, caller.validUntil);
    if (!expiry.ok) throw forbidden({ reason: expiry.reason });
    const secret = this.material.secret();
    return this.db.transaction(async (m) => {
      // One creation per tenant at a time: the quota count below cannot be raced past.
      await m.query('SELECT id FROM tenants WHERE id = $1 FOR UPDATE', [caller.tenant]);
      const parent = await this.lockChainForShare(m, caller);
      assertCovered(scopes, parent.scopes, "requested scopes are not a subset of the caller's key");
      const ancestorKeyIds = childAncestry(parent);
      if (ancestorKeyIds.length > MAX_KEY_DEPTH) {
        throw new BadRequestException({
          message: 'Bad Request',
          details: `KeyTreeTooDeep keys may be nested at most ${MAX_KEY_DEPTH} levels deep`,
        });
      }
      const [{ count }] = await m.query<[{ count: number }]>(
        `SELECT count(*)::int AS count FROM api_keys WHERE tenant_id = $1 AND status = 'active'`,
        [caller.tenant],
      );
      if (count >= this.config.MAX_KEYS_PER_TENANT) {
        throw conflict(
          `KeyQuotaExceeded this tenant already holds ${this.config.MAX_KEYS_PER_TENANT} active keys; revoke some first`,
        );
      }
      const key = this.newKey({
        tenantId: caller.tenant,
        userId: parent.userId,
        ancestorKeyIds,
        scopes,
        secret,
        now,
        expiresAt: expiry.expiresAt,
      });
      await m.insert(ApiKeyEntity, key);
      return { ...keyView(key), secret };
    });
  }

  /**
   * One page of the keys the caller manages (itself and its descendants), in (created_at,
   * key_id) order. `cursor` is the `next_cursor` of the previous page.
   */
  async list(
    caller: Principal,
    page: { limit?: number | undefined; cursor?: string | undefined } = {},
  ): Promise<KeyListDto> {
    const limit = page.limit ?? this.config.KEYS_PAGE_DEFAULT;
    if (limit > this.config.KEYS_PAGE_MAX) {
      throw badRequest(`limit must be at most ${this.config.KEYS_PAGE_MAX}`);
    }
    const after = page.cursor === undefined ? undefined : decodeKeyCursor(page.cursor);
    if (page.cursor !== undefined && !after) {
      throw badRequest('InvalidCursor cursor is not one this API handed out');
    }
    const q = this.db
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.tenant_id = :tenant', { tenant: caller.tenant })
      .andWhere('(k.key_id = :caller OR k.ancestor_key_ids @> ARRAY[:caller]::text[])', {
        caller: caller.keyId,
      })
      .orderBy('k.created_at', 'ASC')
      .addOrderBy('k.key_id', 'ASC')
      .limit(limit + 1);
    if (after) {
      q.andWhere('(k.created_at, k.key_id) > (:afterAt, :afterKey)', {
        afterAt: after.createdAt,
        afterKey: after.keyId,
      });
    }
    const rows = await q.getMany();
    const keys = rows.slice(0, limit);
    const last = keys[keys.length - 1];
    return {
      keys: keys.map(keyView),
      next_cursor:
        rows.length > limit && last
          ? encodeKeyCursor({ createdAt: last.createdAt, keyId: last.keyId })
          : null,
    };
  }

  /**
   * Revokes a key the caller manages and every key below it (idempotent: revoking again also
   * catches descendants left active), announcing each revocation to every replica.
   */
  async revoke(caller: Principal, keyId: string): Promise<KeyViewDto> {
    return this.db.transaction(async (m) => {
      const key = await this.lockManagedKey(m, caller, keyId);
      const now = this.clock.now();
      // A separate statement after the target's lock: its snapshot includes any child created
      // by a transaction that held the chain while we waited. Locked in depth order, the order
      // every writer uses, so concurrent revocations of nested keys cannot deadlock.
      const below = await m.query<{ key_id: string }[]>(
        `SELECT key_id FROM api_keys
          WHERE tenant_id = $1 AND ancestor_key_ids @> ARRAY[$2]::text[] AND status = 'active'
          ORDER BY cardinality(ancestor_key_ids), key_id
          FOR UPDATE`,
        [caller.tenant, key.keyId],
      );
      const ids = below.map((r) => r.key_id);
      if (key.status !== 'revoked') ids.unshift(key.keyId);
      if (ids.length > 0) {
        await m.query(
          `UPDATE api_keys SET status = 'revoked', revoked_at = $2, updated_at = $2,
                  previous_secret_hash = NULL, previous_secret_expires_at = NULL
            WHERE key_id = ANY($1::text[])`,
          [ids, now],
        );
        for (const id of ids) {
          await KeyEventsService.announce(m, { type: 'REVOKED', keyId: id, at: now });
        }
      }
      if (key.status !== 'revoked') {
        Object.assign(key, {
          status: 'revoked',
          revokedAt: now,
          updatedAt: now,
          previousSecretHash: null,
          previousSecretExpiresAt: null,
        });
      }
      return keyView(key);
    });
  }

  /**
   * New secret for a key the caller manages; the old one keeps working for `graceSeconds`. The
   * key keeps its scopes and expiry. Access tokens issued before the rotation are refused from
   * now on (whatever the grace), here and at the gateway (the ROTATED event carries the time).
   */
  async rotate(caller: Principal, keyId: string, graceSeconds: number): Promise<RotatedKeyDto> {
    if (graceSeconds > this.config.MAX_ROTATION_GRACE_SECONDS) {
      throw new BadRequestException({
        message: 'Bad Request',
        details: `grace_period_seconds must be at most ${this.config.MAX_ROTATION_GRACE_SECONDS}`,
      });
    }
    return this.db.transaction(async (m) => {
      const key = await this.lockManagedKey(m, caller, keyId);
      const now = this.clock.now();
      if (key.status === 'revoked') throw conflict('a revoked key cannot be rotated');
      if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) {
        throw conflict('an expired key cannot be rotated');
      }
      assertCovered(key.scopes, caller.scopes, 'the key holds scopes the caller does not');
      if (!mayRotate(caller.validUntil, key.expiresAt)) {
        throw forbidden({
          reason:
            'the new secret would outlive the calling credential (a token or a secret in its ' +
            "grace period); rotate with the key's current secret or an ancestor's",
        });
      }
      const secret = this.material.secret();
      Object.assign(key, rotateSecret(this.hasher.hash(secret), key.secretHash, graceSeconds, now));
      key.updatedAt = now;
      key.tokensNotBefore = tokensNotBeforeAfterRotation(now);
      await m.save(key);
      await KeyEventsService.announce(m, { type: 'ROTATED', keyId: key.keyId, at: now });
      return {
        ...keyView(key),
        secret,
        previous_secret_expires_at: key.previousSecretExpiresAt?.toISOString() ?? null,
      };
    });
  }

  /** Verifies key_id + secret. Malformed ids never reach the database. */
  async verify(keyId: string, secret: string): Promise<VerifiedKey> {
    const presented = this.hasher.hash(secret);
    const key = isWellFormedKeyId(keyId)
      ? ((await this.db.getRepository(ApiKeyEntity).findOneBy({ keyId })) ?? undefined)
      : undefined;
    const decision = decideVerification(
      key,
      presented,
      this.clock.now(),
      this.config.VERIFY_CACHE_TTL_SECONDS,
    );
    return { ...decision, key };
  }

  /**
   * For bearer tokens on management routes: the key behind the token must still be usable, and
   * the token must not predate the key's last rotation.
   */
  async isUsable(keyId: string, issuedAtSeconds: number): Promise<boolean> {
    if (!isWellFormedKeyId(keyId)) return false;
    const key = await this.db.getRepository(ApiKeyEntity).findOneBy({ keyId });
    const now = this.clock.now().getTime();
    return (
      !!key &&
      key.status === 'active' &&
      (!key.expiresAt || key.expiresAt.getTime() > now) &&
      issuedAfterCutOff(issuedAtSeconds, key.tokensNotBefore)
    );
  }

  /** The key's rotation cut-off: tokens for it must carry `iat` at or after this. */
  async tokensNotBefore(keyId: string): Promise<Date | null> {
    if (!isWellFormedKeyId(keyId)) return null;
    const key = await this.db
      .getRepository(ApiKeyEntity)
      .findOne({ where: { keyId }, select: { keyId: true, tokensNotBefore: true } });
    return key?.tokensNotBefore ?? null;
  }

  /**
   * The target key, locked for update, if the caller manages it. A key of another tenant, an
   * ancestor or a sibling is indistinguishable from a missing one (404).
   */
  private async lockManagedKey(
    m: EntityManager,
    caller: Principal,
    keyId: string,
  ): Promise<ApiKeyEntity> {
    const key = isWellFormedKeyId(keyId)
      ? await m.getRepository(ApiKeyEntity).findOne({
          where: { keyId, tenantId: caller.tenant },
          lock: { mode: 'pessimistic_write' },
        })
      : null;
    if (!key || !manages(caller.keyId, key)) {
      throw new NotFoundException({
        message: 'Not Found',
        details: 'key not found among the keys the caller manages',
      });
    }
    return key;
  }

  /**
   * Locks (FOR SHARE, root first: the depth order every writer uses) the calling key and its
   * ancestors and checks the caller is still usable: a revocation of any of them either
   * committed before (we see it) or waits for us (and then sees our new child).
   */
  private async lockChainForShare(m: EntityManager, caller: Principal): Promise<ApiKeyEntity> {
    const self = await m
      .getRepository(ApiKeyEntity)
      .findOneBy({ keyId: caller.keyId, tenantId: caller.tenant });
    if (!self) throw unauthenticated('UnknownKey The calling key does not exist');
    for (const id of [...self.ancestorKeyIds, self.keyId]) {
      await m.query('SELECT 1 FROM api_keys WHERE key_id = $1 FOR SHARE', [id]);
    }
    const locked = await m
      .getRepository(ApiKeyEntity)
      .findOneByOrFail({ keyId: caller.keyId, tenantId: caller.tenant });
    const now = this.clock.now().getTime();
    if (locked.status === 'revoked') {
      throw unauthenticated('RevokedKey The calling key has been revoked');
    }
    if (locked.expiresAt && locked.expiresAt.getTime() <= now) {
      throw unauthenticated('ExpiredKey The calling key has expired');
    }
    return locked;
  }

  private newKey(p: {
    tenantId: string;
    userId: string;
    ancestorKeyIds: string[];
    scopes: Scope[];
    secret: string;
    now: Date;
    expiresAt: Date | null;
  }): ApiKeyEntity {
    const key = new ApiKeyEntity();
    Object.assign(key, {
      keyId: this.material.keyId(),
      tenantId: p.tenantId,
      userId: p.userId,
      parentKeyId: p.ancestorKeyIds[p.ancestorKeyIds.length - 1] ?? null,
      ancestorKeyIds: p.ancestorKeyIds,
      status: 'active',
      scopes: p.scopes,
      secretHash: this.hasher.hash(p.secret),
      previousSecretHash: null,
      previousSecretExpiresAt: null,
      createdAt: p.now,
      updatedAt: p.now,
      revokedAt: null,
      expiresAt: p.expiresAt,
      tokensNotBefore: null,
    } satisfies ApiKeyEntity);
    return key;
  }
}

function conflict(details: string): ConflictException {
  return new ConflictException({ message: 'Conflict', details });
}

function badRequest(details: string): BadRequestException {
  return new BadRequestException({ message: 'Bad Request', details });
}

/** 403 naming the scopes `granted` lacks. */
function assertCovered(requested: readonly Scope[], granted: readonly Scope[], reason: string) {
  const missing = missingScopes(requested, granted);
  if (missing.length > 0) throw forbidden({ reason, missing: missing.map(scopeToString) });
}
