import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { type Decoded } from './record-decoder';

export type RecordRow = Extract<Decoded, { ok: true }>['row'];

/**
 * One INSERT per batch whatever its size: each column is sent as ONE array parameter and
 * `unnest` turns them back into rows (29 parameters for any batch, where a VALUES list needs
 * one per cell, costs the ORM a per-cell build and hits Postgres' 65,535-parameter cap at
 * ~2,300 rows). Duplicates are ignored (ON CONFLICT (request_id) DO NOTHING). The column list
 * is the entity's (database/access-record.entity.ts, created by the migrations).
 */
const INSERT = `
INSERT INTO access_records (
  request_id, tenant, user_id, key_id, auth_via, status, method, scheme, authority, path, query,
  client_address, started_at, ended_at, duration_us, request_size, response_size,
  request_headers, response_headers, route, processors, response_code_details,
  request_body, request_body_truncated, response_body, response_body_truncated,
  schema_version, kafka_partition, kafka_offset)
SELECT r, t, u, k, av, st, m, sc, au, p, q, ca, sa, ea, du, rqs, rss, rqh::jsonb, rsh::jsonb, ro,
  ARRAY(SELECT jsonb_array_elements_text(pr::jsonb)), rcd, rqb, rqbt, rsb, rsbt, sv, kp, ko
FROM unnest(
  $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[],
  $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[],
  $15::bigint[], $16::bigint[], $17::bigint[], $18::text[], $19::text[], $20::text[], $21::text[],
  $22::text[], $23::bytea[], $24::bool[], $25::bytea[], $26::bool[], $27::int[], $28::int[],
  $29::bigint[]
) AS x(r, t, u, k, av, st, m, sc, au, p, q, ca, sa, ea, du, rqs, rss, rqh, rsh, ro, pr, rcd,
  rqb, rqbt, rsb, rsbt, sv, kp, ko)
ON CONFLICT (request_id) DO NOTHING
RETURNING request_id`;

/** The database side of ingestion: one INSERT per batch, duplicates ignored. */
@Injectable()
export class RecordStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts the rows (ON CONFLICT (request_id) DO NOTHING); returns how many were new. */
  async insertBatch(rows: readonly RecordRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    // A batch may hold the same request id twice (a redelivery inside one batch): keep one.
    const unique = [...new Map(rows.map((r) => [r.requestId, r])).values()];
    const col = <T>(f: (r: RecordRow) => T): T[] => unique.map(f);
    const inserted = await this.db.query<unknown[]>(INSERT, [
      col((r) => r.requestId),
      col((r) => r.tenant),
      col((r) => r.userId),
      col((r) => r.keyId),
      col((r) => r.authVia),
      col((r) => r.status),
      col((r) => r.method),
      col((r) => r.scheme),
      col((r) => r.authority),
      col((r) => r.path),
      col((r) => r.query),
      col((r) => r.clientAddress),
      col((r) => r.startedAt),
      col((r) => r.endedAt),
      col((r) => r.durationUs),
      col((r) => r.requestSize),
      col((r) => r.responseSize),
      col((r) => JSON.stringify(r.requestHeaders)),
      col((r) => JSON.stringify(r.responseHeaders)),
      col((r) => r.route),
      col((r) => JSON.stringify(r.processors)),
      col((r) => r.responseCodeDetails),
      col((r) => r.requestBody),
      col((r) => r.requestBodyTruncated),
      col((r) => r.responseBody),
      col((r) => r.responseBodyTruncated),
      col((r) => r.schemaVersion),
      col((r) => r.kafkaPartition),
      col((r) => r.kafkaOffset),
    ]);
    return inserted.length;
  }
}
