import { Column, Entity, PrimaryColumn } from 'typeorm';
import { type KeyStatus } from '../../keys/key-verification';
import { type Scope } from '@edge/auth-contract';

/** An API key. Secrets are never stored: only HMAC-SHA-256 hashes (see SecretHasher). */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The key that created this one (null for a root key). */
  @Column({ name: 'parent_key_id', type: 'text', nullable: true })
  parentKeyId!: string | null;

  /** The keys that created this one, root first ([] for a root key). Never changes. */
  @Column({ name: 'ancestor_key_ids', type: 'text', array: true })
  ancestorKeyIds!: string[];

  @Column({ type: 'text' })
  status!: KeyStatus;

  @Column({ type: 'jsonb' })
  scopes!: Scope[];

  @Column({ name: 'secret_hash', type: 'bytea' })
  secretHash!: Buffer;

  @Column({ name: 'previous_secret_hash', type: 'bytea', nullable: true })
  previousSecretHash!: Buffer | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  /** Set by a rotation: this key's access tokens issued (`iat`) before it are refused. */
  @Column({ name: 'tokens_not_before', type: 'timestamptz', nullable: true })
  tokensNotBefore!: Date | null;
}
