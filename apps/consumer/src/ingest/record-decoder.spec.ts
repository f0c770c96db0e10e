import { logV1 } from '@edge/protos';
import { describe, expect, it } from 'vitest';
import { decodeRecord } from './record-decoder';

const valid = (over: Partial<logV1.AccessRecord> = {}): Buffer =>
  Buffer.from(
    logV1.AccessRecord.encode(
      logV1.AccessRecord.fromPartial({
        schemaVersion: 1,
        requestId: 'r-1',
        startTime: new Date('2026-01-01T00:00:00Z'),
        endTime: new Date('2026-01-01T00:00:01Z'),
        method: 'GET',
        path: '/x',
        status: 200,
        tenant: 't',
        requestHeaders: { 'user-agent': 'a' },
        ...over,
      }),
    ).finish(),
  );

describe('decodeRecord', () => {
  it('maps a valid record to a row', () => {
    const d = decodeRecord(valid(), 2, '17');
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.row).toMatchObject({
      requestId: 'r-1',
      tenant: 't',
      status: 200,
      kafkaPartition: 2,
      kafkaOffset: '17',
      requestHeaders: { 'user-agent': 'a' },
      requestBody: null,
    });
  });

  it('refuses garbage, empty values, other schema versions and invalid fields with a reason', () => {
    expect(decodeRecord(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), 0, '0')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^DecodeError/) as unknown,
    });
    expect(decodeRecord(null, 0, '0')).toEqual({ ok: false, reason: 'EmptyValue' });
    expect(decodeRecord(valid({ schemaVersion: 2 }), 0, '0')).toEqual({
      ok: false,
      reason: 'UnsupportedSchemaVersion 2',
    });
    expect(decodeRecord(valid({ requestId: '' }), 0, '0')).toEqual({
      ok: false,
      reason: 'InvalidRequestId',
    });
    expect(decodeRecord(valid({ requestId: 'a b' }), 0, '0')).toMatchObject({ ok: false });
    expect(decodeRecord(valid({ status: 99 }), 0, '0')).toEqual({
      ok: false,
      reason: 'InvalidStatus',
    });
    expect(decodeRecord(valid({ startTime: undefined }), 0, '0')).toEqual({
      ok: false,
      reason: 'MissingTime',
    });
    expect(decodeRecord(valid({ path: 'a\u0000b' }), 0, '0')).toEqual({
      ok: false,
      reason: 'InvalidText path',
    });
    expect(decodeRecord(Buffer.from('{"json":"not protobuf"}'), 0, '0')).toMatchObject({
      ok: false,
    });
  });
});
