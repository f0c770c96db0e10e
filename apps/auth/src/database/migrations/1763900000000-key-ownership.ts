import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Key ownership and rotation cut-off:
 * - `ancestor_key_ids`: the chain of keys that created this one, root first (immutable, like
 *   `parent_key_id`). A key manages itself and the keys whose chain contains it.
 * - `tokens_not_before`: set by a rotation; access tokens of the key issued (`iat`) before it
 *   are refused.
 * - Keys below a key revoked before this migration are revoked too, each announced as a REVOKED
 *   row in `key_events` (runs after the key-events migration).
 */
export class KeyOwnership1763900000000 implements MigrationInterface {
  name = 'KeyOwnership1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE api_keys ADD COLUMN ancestor_key_ids text[] NOT NULL DEFAULT '{}'::text[]`,
    );
    await q.query(`ALTER TABLE api_keys ADD COLUMN tokens_not_before timestamptz`);
    // Existing keys: walk parent links from every root.
    await q.query(`
      WITH RECURSIVE chain AS (
        SELECT key_id, ARRAY[]::text[] AS ancestors FROM api_keys WHERE parent_key_id IS NULL
        UNION ALL
        SELECT k.key_id, c.ancestors || k.parent_key_id
          FROM api_keys k JOIN chain c ON k.parent_key_id = c.key_id
      )
      UPDATE api_keys a SET ancestor_key_ids = chain.ancestors
        FROM chain WHERE a.key_id = chain.key_id`);
    // Revoking a key now revokes the keys below it: apply that to revocations made before,
    // announced like any revocation: one row per key in the ordered key-event log (the source of
    // truth processors resume from by sequence), under the same lock `KeyEventsService.announce()`
    // takes, and a wake-up for the replicas (delivered when the migration commits).
    await q.query('LOCK TABLE key_events IN SHARE ROW EXCLUSIVE MODE');
    const revoked: unknown = await q.query(`
      WITH revoked AS (
        UPDATE api_keys k
           SET status = 'revoked', revoked_at = now(), updated_at = now(),
               previous_secret_hash = NULL, previous_secret_expires_at = NULL
         WHERE k.status = 'active'
           AND EXISTS (SELECT 1 FROM api_keys a
                        WHERE a.status = 'revoked' AND a.key_id = ANY (k.ancestor_key_ids))
        RETURNING k.key_id, k.tenant_id, k.revoked_at
      )
      INSERT INTO key_events (key_id, tenant_id, type, at)
      SELECT key_id, tenant_id, 'REVOKED', revoked_at FROM revoked ORDER BY key_id
      RETURNING key_id`);
    if (Array.isArray(revoked) && revoked.length > 0) {
      await q.query(`SELECT pg_notify('edge_key_events', '')`);
    }
    await q.query(`CREATE INDEX api_keys_ancestors_idx ON api_keys USING gin (ancestor_key_ids)`);
    // Listing pages in (created_at, key_id) order within a tenant.
    await q.query(`DROP INDEX api_keys_tenant_id_idx`);
    await q.query(
      `CREATE INDEX api_keys_tenant_page_idx ON api_keys (tenant_id, created_at, key_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX api_keys_tenant_page_idx`);
    await q.query(`CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id, created_at)`);
    await q.query(`DROP INDEX api_keys_ancestors_idx`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN tokens_not_before`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN ancestor_key_ids`);
  }
}
