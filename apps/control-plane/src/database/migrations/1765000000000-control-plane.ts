import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class ControlPlane1765000000000 implements MigrationInterface {
  name = 'ControlPlane1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE xds_upstreams (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        node_id text NOT NULL,
        name text NOT NULL,
        endpoints jsonb NOT NULL,
        connect_timeout_ms integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT xds_upstreams_node_name UNIQUE (node_id, name)
      )`);
    await q.query(`
      CREATE TABLE xds_routes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        node_id text NOT NULL,
        name text NOT NULL,
        path_prefix text NOT NULL,
        upstream text NOT NULL,
        required_scopes text[] NOT NULL,
        timeout_ms integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT xds_routes_node_name UNIQUE (node_id, name),
        CONSTRAINT xds_routes_node_prefix UNIQUE (node_id, path_prefix)
      )`);
    await q.query(`
      CREATE TABLE xds_wasm_modules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        version text NOT NULL UNIQUE,
        sha256 text NOT NULL,
        size_bytes integer NOT NULL,
        content bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE xds_wasm_rollouts (
        id bigserial PRIMARY KEY,
        node_id text NOT NULL,
        module_id uuid REFERENCES xds_wasm_modules (id),
        action text NOT NULL CHECK (action IN ('rollout', 'rollback')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX xds_wasm_rollouts_node ON xds_wasm_rollouts (node_id, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE xds_wasm_rollouts');
    await q.query('DROP TABLE xds_wasm_modules');
    await q.query('DROP TABLE xds_routes');
    await q.query('DROP TABLE xds_upstreams');
  }
}
