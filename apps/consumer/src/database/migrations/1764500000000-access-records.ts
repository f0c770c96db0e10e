import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class AccessRecords1764500000000 implements MigrationInterface {
  name = 'AccessRecords1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE access_records (
        request_id text PRIMARY KEY,
        tenant text NOT NULL,
        user_id text NOT NULL,
        key_id text NOT NULL,
        auth_via text NOT NULL,
        status integer NOT NULL,
        method text NOT NULL,
        scheme text NOT NULL,
        authority text NOT NULL,
        path text NOT NULL,
        query text NOT NULL,
        client_address text NOT NULL,
        started_at timestamptz NOT NULL,
        ended_at timestamptz NOT NULL,
        duration_us bigint NOT NULL,
        request_size bigint NOT NULL,
        response_size bigint NOT NULL,
        request_headers jsonb NOT NULL,
        response_headers jsonb NOT NULL,
        route text NOT NULL,
        processors text[] NOT NULL,
        response_code_details text NOT NULL,
        request_body bytea,
        request_body_truncated boolean NOT NULL DEFAULT false,
        response_body bytea,
        response_body_truncated boolean NOT NULL DEFAULT false,
        schema_version integer NOT NULL,
        kafka_partition integer NOT NULL,
        kafka_offset bigint NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE INDEX access_records_tenant_time ON access_records (tenant, started_at DESC, request_id DESC)',
    );
    await q.query(
      'CREATE INDEX access_records_time ON access_records (started_at DESC, request_id DESC)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access_records');
  }
}
