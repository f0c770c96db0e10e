import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  Clock,
  missingScopes,
  normalizeScopes,
  type Principal,
  ROOT_SCOPES,
  type Scope,
  scopeToString,
} from '@edge/auth-contract';
import { forbidden } from '../auth/errors';
import { RandomSource } from '../common/random';
import { AUTH_CONFIG, type AuthConfig } from '../config/config';
import { ApiKeyEntity, TenantEntity, UserEntity } from '../database/entities';
import { KeyEventsService } from '../key-events/key-events.service';
import { isWellFormedKeyId, KeyMaterialGenerator, SecretHasher } from './key-secrets';
import { decideVerification, rotateSecret, type VerificationDecision } from './key-verification';
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
      'VERIFY_CACHE_TTL_SECONDS' | 'MAX_ROTATION_GRACE_SECONDS'
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
      parentKeyId: null,
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

  /** A child key for the caller's user, with a subset of the caller's scopes. */
  async createChildKey(
    caller: Principal,
    req: { scopes: Scope[]; expires_in_seconds?: number | undefined },
  ): Promise<KeyWithSecretDto> {
    const scopes = normalizeScopes(req.scopes);
    const missing = missingScopes(scopes, caller.scopes);
    if (missing.length > 0) {
      throw forbidden({
        reason: "requested scopes are not a subset of the caller's scopes",
        missing: missing.map(scopeToString),
      });
    }
    const now = this.clock.now();
    let expiresAt =
      req.expires_in_seconds === undefined
        ? null
        : new Date(now.getTime() + req.expires_in_seconds * 1000);
    if (caller.validUntil) {
      if (expiresAt && expiresAt.getTime() > caller.validUntil.getTime()) {
        throw forbidden({ reason: 'a child key cannot outlive the calling credential' });
      }
      expiresAt ??= caller.validUntil;
    }
    const secret = this.material.secret();
    const key = this.newKey({
      tenantId: caller.tenant,
      userId: caller.userId,
      parentKeyId: caller.keyId,
      scopes,
      secret,
      now,
      expiresAt,
    });
    await this.db.getRepository(ApiKeyEntity).insert(key);
    return { ...keyView(key), secret };
  }

  async list(caller: Principal): Promise<KeyListDto> {
    const keys = await this.db
      .getRepository(ApiKeyEntity)
      .find({ where: { tenantId: caller.tenant }, order: { createdAt: 'ASC', keyId: 'ASC' } });
    return { keys: keys.map(keyView) };
  }

  /** Revokes a key of the caller's tenant (idempotent) and announces it to every replica. */
  async revoke(caller: Principal, keyId: string): Promise<KeyViewDto> {
    return this.db.transaction(async (m) => {
      const key = await this.lockTenantKey(m, caller, keyId);
      if (key.status === 'revoked') return keyView(key);
      const now = this.clock.now();
      key.status = 'revoked';
      key.revokedAt = now;
      key.updatedAt = now;
      key.previousSecretHash = null;
      key.previousSecretExpiresAt = null;
      await m.save(key);
      await KeyEventsService.announce(m, { type: 'REVOKED', keyId: key.keyId, at: now });
      return keyView(key);
    });
  }

  /** New secret for a key; the old one keeps working for `graceSeconds`. */
  async rotate(caller: Principal, keyId: string, graceSeconds: number): Promise<RotatedKeyDto> {
    if (graceSeconds > this.config.MAX_ROTATION_GRACE_SECONDS) {
      throw new BadRequestException({
        message: 'Bad Request',
        details: `grace_period_seconds must be at most ${this.config.MAX_ROTATION_GRACE_SECONDS}`,
      });
    }
    return this.db.transaction(async (m) => {
      const key = await this.lockTenantKey(m, caller, keyId);
      const now = this.clock.now();
      if (key.status === 'revoked') throw conflict('a revoked key cannot be rotated');
      if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) {
        throw conflict('an expired key cannot be rotated');
      }
      const secret = this.material.secret();
      Object.assign(key, rotateSecret(this.hasher.hash(secret), key.secretHash, graceSeconds, now));
      key.updatedAt = now;
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

  /** For bearer tokens on management routes: the key behind the token must still be usable. */
  async isUsable(keyId: string): Promise<boolean> {
    if (!isWellFormedKeyId(keyId)) return false;
    const key = await this.db.getRepository(ApiKeyEntity).findOneBy({ keyId });
    const now = this.clock.now().getTime();
    return !!key && key.status === 'active' && (!key.expiresAt || key.expiresAt.getTime() > now);
  }

  private async lockTenantKey(
    m: import('typeorm').EntityManager,
    caller: Principal,
    keyId: string,
  ): Promise<ApiKeyEntity> {
    // Another tenant's key is indistinguishable from a missing one.
    const key = isWellFormedKeyId(keyId)
      ? await m.getRepository(ApiKeyEntity).findOne({
          where: { keyId, tenantId: caller.tenant },
          lock: { mode: 'pessimistic_write' },
        })
      : null;
    if (!key)
      throw new NotFoundException({
        message: 'Not Found',
        details: 'key not found in this tenant',
      });
    return key;
  }

  private newKey(p: {
    tenantId: string;
    userId: string;
    parentKeyId: string | null;
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
      parentKeyId: p.parentKeyId,
      status: 'active',
      scopes: p.scopes,
      secretHash: this.hasher.hash(p.secret),
      previousSecretHash: null,
      previousSecretExpiresAt: null,
      createdAt: p.now,
      updatedAt: p.now,
      revokedAt: null,
      expiresAt: p.expiresAt,
    } satisfies ApiKeyEntity);
    return key;
  }
}

function conflict(details: string): ConflictException {
  return new ConflictException({ message: 'Conflict', details });
}
