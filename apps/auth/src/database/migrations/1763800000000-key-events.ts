import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The ordered key-event log: every revoke / rotate writes a row in its own transaction, so a
 * watcher that resumes from a sequence misses nothing (LISTEN/NOTIFY is only the wake-up).
 */
export class KeyEvents1763800000000 implements MigrationInterface {
  name = 'KeyEvents1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE key_events (
        seq bigserial PRIMARY KEY,
        key_id text NOT NULL,
        tenant_id uuid,
        type text NOT NULL CHECK (type IN ('REVOKED', 'ROTATED')),
        at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX key_events_at_idx ON key_events (at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE key_events`);
  }
}
