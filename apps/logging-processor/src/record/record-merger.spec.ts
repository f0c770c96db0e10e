import { silentLogger } from '@edge/processor-core';
import { accessLogData, envoyCore, logV1 } from '@edge/protos';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadLoggingProcessorConfig } from '../config/logging-processor.config';
import { type PendingRecord } from '../publisher/record-buffer';
import { type CollectedRequest } from './access-record.builder';
import { RecordMerger } from './record-merger';

function setup() {
  const published: PendingRecord[] = [];
  const late: string[] = [];
  const sources: string[] = [];
  let now = 5_000;
  const clock = { now: () => now, monotonic: () => now };
  const merger = new RecordMerger(
    loadLoggingProcessorConfig({ MERGE_WAIT_MS: '1000' }),
    { publish: (r) => published.push(r) },
    { recorded: (s) => sources.push(s), late: (s) => late.push(s) },
    clock,
    silentLogger,
  );
  const wait = (ms: number) => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };
  const decoded = () => published.map((r) => logV1.AccessRecord.decode(r.value));
  return { merger, published, late, sources, wait, decoded };
}

function ext(id: string, status = 0): CollectedRequest {
  return {
    requestId: id,
    startMs: 1_000,
    endMs: 1_002,
    durationUs: 2_000,
    method: 'GET',
    scheme: 'http',
    authority: 'edge',
    rawPath: '/api/v0/echo?token=s3cret',
    clientAddress: '127.0.0.1:4000',
    status,
    requestHeaders: undefined,
    responseHeaders: undefined,
    identity: undefined,
    route: 'api',
    responseCodeDetails: '',
    processors: ['logging'],
    requestBody: undefined,
    responseBody: undefined,
  };
}

function entry(id: string, code: number, details: string, tenant?: string) {
  return accessLogData.HTTPAccessLogEntry.fromPartial({
    commonProperties: {
      startTime: new Date(1_000),
      duration: { seconds: 0, nanos: 3_000_000 },
      routeName: 'api',
      downstreamRemoteAddress: {
        address: {
          $case: 'socketAddress',
          value: { address: '127.0.0.1', portSpecifier: { $case: 'portValue', value: 4000 } },
        },
      },
      metadata:
        tenant === undefined
          ? undefined
          : {
              filterMetadata: { 'edge.authn': { tenant, user_id: 'u', key_id: 'k', via: 'basic' } },
            },
    },
    request: {
      requestId: id,
      requestMethod: envoyCore.RequestMethod.POST,
      scheme: 'http',
      authority: 'edge',
      path: '/api/v0/admin/x?password=pw',
      requestBodyBytes: 7,
    },
    response: {
      responseCode: code,
      responseCodeDetails: details,
      responseBodyBytes: 93,
      responseHeaders: { 'content-type': 'application/json', 'set-cookie': 'sid=secret' },
    },
  });
}

describe('RecordMerger', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a complete ext_proc record goes out at once, and a later entry for it is ignored', () => {
    const { merger, published, late, decoded } = setup();
    merger.fromExtProc(ext('r1', 200), true);
    expect(published).toHaveLength(1);
    merger.fromAccessLog(entry('r1', 200, 'via_upstream'));
    expect(published).toHaveLength(1);
    expect(late).toEqual(['access_log']);
    expect(decoded()[0]).toMatchObject({ requestId: 'r1', status: 200 });
  });

  it('ext_proc record without a response + access-log entry = one record with the real status', () => {
    const { merger, published, sources, decoded } = setup();
    merger.fromExtProc(ext('r2'), false);
    expect(published).toHaveLength(0);
    merger.fromAccessLog(entry('r2', 401, 'authn_InvalidSecret'));
    expect(published).toHaveLength(1);
    expect(sources).toEqual(['merged']);
    expect(decoded()[0]).toMatchObject({
      requestId: 'r2',
      status: 401,
      responseSize: 93,
      requestSize: 7,
      responseCodeDetails: 'authn_InvalidSecret',
      method: 'GET', // the ext_proc half's request line wins
      path: '/api/v0/echo',
      query: 'token=[redacted]',
      processors: ['logging', 'authn'],
      durationUs: 3_000,
      responseHeaders: { 'content-type': 'application/json', 'set-cookie': '[redacted]' },
    });
  });

  it('the access-log entry first, then the ext_proc record: still one merged record', () => {
    const { merger, published, decoded } = setup();
    merger.fromAccessLog(entry('r3', 403, 'authn_MissingScope', 't1'));
    expect(published).toHaveLength(0);
    merger.fromExtProc(ext('r3'), false);
    expect(published).toHaveLength(1);
    expect(published[0]!.key).toBe('t1');
    expect(decoded()[0]).toMatchObject({ status: 403, tenant: 't1', userId: 'u', keyId: 'k' });
  });

  it('an entry with no ext_proc partner goes out alone after MERGE_WAIT_MS, built from the entry', () => {
    const { merger, published, late, wait, decoded } = setup();
    merger.fromAccessLog(entry('r4', 503, 'no_healthy_upstream', 't2'));
    wait(500);
    expect(published).toHaveLength(0);
    wait(800);
    expect(published).toHaveLength(1);
    expect(decoded()[0]).toMatchObject({
      requestId: 'r4',
      status: 503,
      method: 'POST',
      path: '/api/v0/admin/x',
      query: 'password=[redacted]',
      clientAddress: '127.0.0.1:4000',
      tenant: 't2',
      route: 'api',
      responseCodeDetails: 'no_healthy_upstream',
    });
    // Its ext_proc half arriving later is not published again.
    merger.fromExtProc(ext('r4'), false);
    expect(published).toHaveLength(1);
    expect(late).toEqual(['ext_proc']);
    expect(Buffer.concat(published.map((p) => p.value)).includes('secret')).toBe(false);
  });

  it('an ext_proc record without a response and no entry goes out alone after the wait (never lost)', () => {
    const { merger, published, wait, decoded } = setup();
    merger.fromExtProc(ext('r5'), false);
    wait(1_300);
    expect(published).toHaveLength(1);
    expect(decoded()[0]).toMatchObject({ requestId: 'r5', status: 0 });
  });

  it('an entry without x-request-id (refused before Envoy set one) goes out at once, keyed by stream id', () => {
    const { merger, published, decoded } = setup();
    const e = entry('', 400, 'codec_error');
    e.commonProperties!.streamId = '1234';
    merger.fromAccessLog(e);
    expect(published).toHaveLength(1);
    expect(decoded()[0]).toMatchObject({ requestId: 'envoy-stream-1234', status: 400 });
  });

  it('close() publishes every waiting half', () => {
    const { merger, published } = setup();
    merger.fromExtProc(ext('r6'), false);
    merger.fromAccessLog(entry('r7', 404, 'route_not_found'));
    merger.close();
    expect(published).toHaveLength(2);
    merger.fromExtProc(ext('r8'), false);
    expect(published).toHaveLength(3);
  });
});
