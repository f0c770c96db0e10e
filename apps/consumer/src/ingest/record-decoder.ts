import { logV1 } from '@edge/protos';
import { type AccessRecordEntity } from '../database/access-record.entity';

export const SCHEMA_VERSION = 1;

/** A row ready to insert, or why the record goes to the dead-letter topic. */
export type Decoded =
  { ok: true; row: Omit<AccessRecordEntity, 'storedAt'> } | { ok: false; reason: string };

const MAX_TEXT = 8192;
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

function fail(reason: string): Decoded {
  return { ok: false, reason };
}

/**
 * Decodes one Kafka value as edge.log.v1.AccessRecord and validates it against the schema's
 * rules (version, request id, times, status range, text sizes). Never throws.
 */
export function decodeRecord(
  value: Buffer | null | undefined,
  partition: number,
  offset: string,
): Decoded {
  if (value === null || value === undefined || value.length === 0) return fail('EmptyValue');
  let r: logV1.AccessRecord;
  try {
    r = logV1.AccessRecord.decode(value);
  } catch (err) {
    return fail(`DecodeError ${(err as Error).message}`.slice(0, 200));
  }
  if (r.schemaVersion !== SCHEMA_VERSION)
    return fail(`UnsupportedSchemaVersion ${r.schemaVersion}`);
  if (!REQUEST_ID.test(r.requestId)) return fail('InvalidRequestId');
  if (r.startTime === undefined || r.endTime === undefined) return fail('MissingTime');
  if (Number.isNaN(r.startTime.getTime()) || Number.isNaN(r.endTime.getTime())) {
    return fail('InvalidTime');
  }
  if (r.status !== 0 && (r.status < 100 || r.status > 599)) return fail('InvalidStatus');
  if (r.method === '' || r.method.length > 32) return fail('InvalidMethod');
  for (const [name, v] of [
    ['path', r.path],
    ['query', r.query],
    ['authority', r.authority],
    ['tenant', r.tenant],
    ['user_id', r.userId],
    ['key_id', r.keyId],
  ] as const) {
    if (v.length > MAX_TEXT) return fail(`FieldTooLong ${name}`);
    // Postgres text cannot hold NUL.
    if (v.includes('\u0000')) return fail(`InvalidText ${name}`);
  }
  const headers = (h: Record<string, string>) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h))
      out[k.replaceAll('\u0000', '')] = v.replaceAll('\u0000', '');
    return out;
  };
  return {
    ok: true,
    row: {
      requestId: r.requestId,
      tenant: r.tenant,
      userId: r.userId,
      keyId: r.keyId,
      authVia: r.authVia,
      status: r.status,
      method: r.method,
      scheme: r.scheme,
      authority: r.authority,
      path: r.path,
      query: r.query,
      clientAddress: r.clientAddress,
      startedAt: r.startTime,
      endedAt: r.endTime,
      durationUs: String(r.durationUs),
      requestSize: String(r.requestSize),
      responseSize: String(r.responseSize),
      requestHeaders: headers(r.requestHeaders),
      responseHeaders: headers(r.responseHeaders),
      route: r.route.replaceAll('\u0000', ''),
      processors: r.processors.map((p) => p.replaceAll('\u0000', '')),
      responseCodeDetails: r.responseCodeDetails.replaceAll('\u0000', ''),
      requestBody: r.requestBody === undefined ? null : Buffer.from(r.requestBody.content),
      requestBodyTruncated: r.requestBody?.truncated ?? false,
      responseBody: r.responseBody === undefined ? null : Buffer.from(r.responseBody.content),
      responseBodyTruncated: r.responseBody?.truncated ?? false,
      schemaVersion: r.schemaVersion,
      kafkaPartition: partition,
      kafkaOffset: offset,
    },
  };
}
