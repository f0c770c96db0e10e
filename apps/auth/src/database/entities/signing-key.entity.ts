import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A JWT signing key pair. The public JWK is published in the JWKS; the private key (PKCS#8) is
 * stored only encrypted with AES-256-GCM under SIGNING_KEY_ENCRYPTION_KEY (see key-encryption.ts).
 */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'text' })
  kid!: string;

  @Column({ type: 'text' })
  alg!: string;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: Record<string, unknown>;

  @Column({ name: 'private_key_encrypted', type: 'bytea' })
  privateKeyEncrypted!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** From this instant the key signs new tokens (published since `created_at`). */
  @Column({ name: 'activates_at', type: 'timestamptz' })
  activatesAt!: Date;
}
