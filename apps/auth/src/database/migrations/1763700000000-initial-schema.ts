import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        name text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX users_tenant_id_idx ON users (tenant_id)`);
    await q.query(`
      CREATE TABLE api_keys (
        key_id text PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        parent_key_id text REFERENCES api_keys(key_id) ON DELETE SET NULL,
        status text NOT NULL CHECK (status IN ('active', 'revoked')),
        scopes jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(scopes) = 'array'),
        secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
        previous_secret_hash bytea CHECK (octet_length(previous_secret_hash) = 32),
        previous_secret_expires_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        revoked_at timestamptz,
        expires_at timestamptz,
        CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id, created_at)`);
    await q.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_encrypted bytea NOT NULL,
        created_at timestamptz NOT NULL,
        activates_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX signing_keys_activates_at_idx ON signing_keys (activates_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE signing_keys`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE tenants`);
  }
}
