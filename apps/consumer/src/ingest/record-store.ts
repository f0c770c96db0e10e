import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { AccessRecordEntity } from '../database/access-record.entity';
import { type Decoded } from './record-decoder';

export type RecordRow = Extract<Decoded, { ok: true }>['row'];

/** The database side of ingestion: one multi-row INSERT per batch, duplicates ignored. */
@Injectable()
export class RecordStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts the rows (ON CONFLICT (request_id) DO NOTHING); returns how many were new. */
  async insertBatch(rows: readonly RecordRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    // A batch may hold the same request id twice (a redelivery inside one batch): keep one.
    const unique = [...new Map(rows.map((r) => [r.requestId, r])).values()];
    const res = (await this.db
      .createQueryBuilder()
      .insert()
      .into(AccessRecordEntity)
      .values(unique)
      .orIgnore()
      .returning(['requestId'])
      .updateEntity(false)
      .execute()) as { raw: unknown[] };
    return res.raw.length;
  }
}
