import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  type CryptoKey,
  type JWK,
} from 'jose';
import { DataSource, In } from 'typeorm';
import { Clock } from '@edge/auth-contract';
import { AUTH_CONFIG, type AuthConfig } from '../config/config';
import { SigningKeyEntity } from '../database/entities';
import { decryptPrivateKey, encryptPrivateKey } from './key-encryption';
import { planSigningKeys, type ScheduleSettings, signingKeyAt } from './signing-key-schedule';

export const SIGNING_ALG = 'ES256';
// pg_advisory_xact_lock key: one replica at a time creates or prunes signing keys.
const SIGNING_KEYS_LOCK = 7_300_001;

interface LoadedKey {
  kid: string;
  activatesAt: Date;
  publicJwk: JWK;
  envelope: Buffer;
}

type KeyConfig = Pick<
  AuthConfig,
  | 'SIGNING_KEY_ENCRYPTION_KEY'
  | 'SIGNING_KEY_ROTATION_SECONDS'
  | 'SIGNING_KEY_PUBLISH_AHEAD_SECONDS'
  | 'JWT_TTL_SECONDS'
>;

/**
 * JWT signing keys (ES256), persisted in Postgres so they survive restarts and are shared by
 * every replica. Private keys are stored only AES-256-GCM-encrypted under
 * SIGNING_KEY_ENCRYPTION_KEY (configuration, never in the database) and never leave the process.
 * A maintenance loop follows `planSigningKeys`: successors are published ahead of use and old
 * keys stay in the JWKS for the token lifetime after their last use.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SigningKeysService.name);
  private readonly encryptionKey: Buffer;
  private keys: LoadedKey[] = [];
  private readonly privateKeys = new Map<string, Promise<CryptoKey>>();
  private timer: NodeJS.Timeout | undefined;
  private jwksVersion = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: KeyConfig,
    private readonly clock: Clock,
  ) {
    this.encryptionKey = Buffer.from(config.SIGNING_KEY_ENCRYPTION_KEY, 'base64');
  }

  get settings(): ScheduleSettings {
    return {
      rotationMs: this.config.SIGNING_KEY_ROTATION_SECONDS * 1000,
      publishAheadMs: this.config.SIGNING_KEY_PUBLISH_AHEAD_SECONDS * 1000,
      tokenTtlMs: this.config.JWT_TTL_SECONDS * 1000,
    };
  }

  async onModuleInit(): Promise<void> {
    await this.maintain();
    // Fail at boot, not on the first token, when the encryption key cannot open the keys.
    await this.currentSigningKey();
    const every = Math.max(200, Math.min(60_000, this.settings.publishAheadMs / 3));
    this.timer = setInterval(() => {
      this.maintain().catch((err: unknown) =>
        this.logger.error(`signing key maintenance failed: ${(err as Error).message}`),
      );
    }, every);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Creates/prunes keys per the schedule (under a cluster-wide lock), then reloads them. */
  async maintain(): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEYS_LOCK]);
      const rows = await m.find(SigningKeyEntity);
      const now = this.clock.now();
      const plan = planSigningKeys(rows, now, this.settings);
      for (const activatesAt of plan.create) {
        const row = await this.generate(now, activatesAt);
        await m.save(row);
        this.logger.log(`signing key ${row.kid} created, signs from ${activatesAt.toISOString()}`);
      }
      if (plan.prune.length > 0) {
        await m.delete(SigningKeyEntity, { kid: In(plan.prune) });
        this.logger.log(`signing keys retired from the JWKS: ${plan.prune.join(', ')}`);
      }
    });
    await this.reload();
  }

  /** Public keys for the JWKS: the signing key, its published successor, recent predecessors. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  /** Changes whenever the set of published keys changes (for verifier caches). */
  get version(): number {
    return this.jwksVersion;
  }

  /** The key that signs now (per local clock; successors are loaded well before they activate). */
  async currentSigningKey(): Promise<{ kid: string; key: CryptoKey }> {
    let k = signingKeyAt(this.keys, this.clock.now());
    if (!k) {
      await this.maintain();
      k = signingKeyAt(this.keys, this.clock.now());
    }
    if (!k) throw new Error('no signing key available');
    return { kid: k.kid, key: await this.privateKey(k) };
  }

  private async reload(): Promise<void> {
    const rows = await this.db
      .getRepository(SigningKeyEntity)
      .find({ order: { activatesAt: 'ASC' } });
    const before = this.keys.map((k) => k.kid).join(',');
    this.keys = rows.map((r) => ({
      kid: r.kid,
      activatesAt: r.activatesAt,
      publicJwk: r.publicJwk,
      envelope: r.privateKeyEncrypted,
    }));
    const kids = new Set(this.keys.map((k) => k.kid));
    for (const kid of this.privateKeys.keys()) if (!kids.has(kid)) this.privateKeys.delete(kid);
    if (this.keys.map((k) => k.kid).join(',') !== before) this.jwksVersion++;
  }

  private privateKey(k: LoadedKey): Promise<CryptoKey> {
    let p = this.privateKeys.get(k.kid);
    if (!p) {
      p = Promise.resolve().then(() =>
        importPKCS8(decryptPrivateKey(k.envelope, this.encryptionKey, k.kid), SIGNING_ALG),
      );
      p.catch(() => this.privateKeys.delete(k.kid));
      this.privateKeys.set(k.kid, p);
    }
    return p;
  }

  private async generate(now: Date, activatesAt: Date): Promise<SigningKeyEntity> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const row = new SigningKeyEntity();
    row.kid = kid;
    row.alg = SIGNING_ALG;
    row.publicJwk = { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' };
    row.privateKeyEncrypted = encryptPrivateKey(
      await exportPKCS8(privateKey),
      this.encryptionKey,
      kid,
    );
    row.createdAt = now;
    row.activatesAt = activatesAt;
    return row;
  }
}
