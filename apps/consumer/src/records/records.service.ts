import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { CONSUMER_CONFIG, type ConsumerConfig } from '../config/consumer.config';
import { AccessRecordEntity } from '../database/access-record.entity';
import { type ListRecordsQuery, type RecordPage, type RecordView } from './records.dto';

/** Cursor = base64url("<started_at ISO>|<request_id>") of the last record of a page. */
export function encodeCursor(r: Pick<AccessRecordEntity, 'startedAt' | 'requestId'>): string {
  return Buffer.from(`${r.startedAt.toISOString()}|${r.requestId}`, 'utf8').toString('base64url');
}

export function decodeCursor(c: string): { at: Date; id: string } {
  const text = Buffer.from(c, 'base64url').toString('utf8');
  const i = text.indexOf('|');
  const at = new Date(i < 0 ? NaN : text.slice(0, i));
  if (i < 0 || Number.isNaN(at.getTime()) || i === text.length - 1) {
    throw new BadRequestException({
      message: 'Bad Request',
      status: 400,
      details: 'InvalidCursor cursor is not one this API returned',
    });
  }
  return { at, id: text.slice(i + 1) };
}

export function toView(e: AccessRecordEntity): RecordView {
  const body = (b: Buffer | null, truncated: boolean) =>
    b === null ? null : { content_base64: b.toString('base64'), truncated };
  return {
    request_id: e.requestId,
    tenant: e.tenant,
    user_id: e.userId,
    key_id: e.keyId,
    auth_via: e.authVia,
    status: e.status,
    method: e.method,
    scheme: e.scheme,
    authority: e.authority,
    path: e.path,
    query: e.query,
    client_address: e.clientAddress,
    started_at: e.startedAt.toISOString(),
    ended_at: e.endedAt.toISOString(),
    duration_us: Number(e.durationUs),
    request_size: Number(e.requestSize),
    response_size: Number(e.responseSize),
    request_headers: e.requestHeaders,
    response_headers: e.responseHeaders,
    route: e.route,
    processors: e.processors,
    response_code_details: e.responseCodeDetails,
    request_body: body(e.requestBody, e.requestBodyTruncated),
    response_body: body(e.responseBody, e.responseBodyTruncated),
  };
}

/** Reads stored records; `tenant` undefined means every tenant (the admin view only). */
@Injectable()
export class RecordsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CONSUMER_CONFIG) private readonly config: ConsumerConfig,
  ) {}

  async list(tenant: string | undefined, q: ListRecordsQuery): Promise<RecordPage> {
    const limit = Math.min(q.limit ?? 50, this.config.QUERY_MAX_LIMIT);
    const qb = this.db.getRepository(AccessRecordEntity).createQueryBuilder('r');
    if (tenant !== undefined) qb.andWhere('r.tenant = :tenant', { tenant });
    if (q.status !== undefined) qb.andWhere('r.status = :status', { status: q.status });
    if (q.path_prefix !== undefined) {
      const escaped = q.path_prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
      qb.andWhere("r.path LIKE :prefix ESCAPE '\\'", { prefix: `${escaped}%` });
    }
    if (q.from !== undefined) qb.andWhere('r.startedAt >= :from', { from: new Date(q.from) });
    if (q.to !== undefined) qb.andWhere('r.startedAt < :to', { to: new Date(q.to) });
    if (q.cursor !== undefined) {
      const c = decodeCursor(q.cursor);
      qb.andWhere('(r.startedAt, r.requestId) < (:cAt, :cId)', { cAt: c.at, cId: c.id });
    }
    const rows = await qb
      .orderBy('r.startedAt', 'DESC')
      .addOrderBy('r.requestId', 'DESC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      records: page.map(toView),
      next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
    };
  }

  async one(tenant: string | undefined, requestId: string): Promise<RecordView | undefined> {
    const e = await this.db
      .getRepository(AccessRecordEntity)
      .findOneBy(tenant === undefined ? { requestId } : { requestId, tenant });
    return e === null ? undefined : toView(e);
  }
}
