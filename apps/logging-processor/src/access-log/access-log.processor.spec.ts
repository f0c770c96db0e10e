import { logV1 } from '@edge/protos';
import { createHarness } from '@edge/processor-core/testing';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@edge/processor-core';
import { loadLoggingProcessorConfig } from '../config/logging-processor.config';
import { type PendingRecord } from '../publisher/record-buffer';
import { RecordMerger } from '../record/record-merger';
import { AccessLogProcessor } from './access-log.processor';

function setup(env: Record<string, string> = {}) {
  const published: PendingRecord[] = [];
  let now = 1_000_000;
  const clock = { now: () => now, monotonic: () => now };
  const config = loadLoggingProcessorConfig(env);
  const merger = new RecordMerger(
    config,
    { publish: (r) => published.push(r) },
    { recorded: () => undefined, late: () => undefined },
    clock,
    silentLogger,
  );
  const p = new AccessLogProcessor(config, merger, clock, silentLogger);
  const advance = (ms: number) => (now += ms);
  const decoded = () => published.map((r) => logV1.AccessRecord.decode(r.value));
  return { p, merger, published, advance, decoded };
}

describe('AccessLogProcessor', () => {
  it('declares request and response headers only (no bodies) by default', () => {
    expect(setup().p.mode).toEqual({
      requestHeaders: 'send',
      responseHeaders: 'send',
      requestBody: 'none',
      responseBody: 'none',
    });
  });

  it('publishes one redacted record keyed by the tenant from dynamic metadata, never from headers', async () => {
    const { p, published, advance, decoded } = setup();
    const h = createHarness(p);
    const req = await h.requestHeaders(
      {
        ':method': 'GET',
        ':path': '/api/v0/echo?token=s3cret&x=1',
        ':authority': 'edge',
        ':scheme': 'http',
        'x-request-id': 'rid-1',
        authorization: 'Basic c2VjcmV0',
        cookie: 'sid=abc',
        'x-tenant-id': 'forged',
      },
      { attributes: { 'source.address': '10.0.0.1:5', 'xds.route_name': 'api' } },
    );
    expect(req.immediate).toBeUndefined();
    advance(7);
    await h.responseHeaders(
      { ':status': '200', 'content-length': '12', 'set-cookie': 'a=b' },
      {
        metadataContext: {
          'edge.authn': { tenant: 't1', user_id: 'u1', key_id: 'k1', via: 'basic' },
        },
        attributes: { 'response.code_details': 'via_upstream' },
      },
    );
    expect(published).toHaveLength(1);
    expect(published[0]!.key).toBe('t1');
    const [r] = decoded();
    expect(r).toMatchObject({
      schemaVersion: 1,
      requestId: 'rid-1',
      method: 'GET',
      path: '/api/v0/echo',
      query: 'token=[redacted]&x=1',
      clientAddress: '10.0.0.1:5',
      status: 200,
      responseSize: 12,
      requestSize: -1,
      tenant: 't1',
      userId: 'u1',
      keyId: 'k1',
      authVia: 'basic',
      route: 'api',
      processors: ['logging', 'authn'],
      durationUs: 7000,
      requestHeaders: { authorization: '[redacted]', cookie: '[redacted]' },
      responseHeaders: { 'set-cookie': '[redacted]', 'content-length': '12' },
    });
    expect(Buffer.concat(published.map((x) => x.value)).includes('c2VjcmV0')).toBe(false);
  });

  it('still publishes once when the stream ends before a response (local reply, client gone)', async () => {
    const { p, merger, published, decoded } = setup();
    const h = createHarness(p);
    await h.requestHeaders({ ':method': 'GET', ':path': '/x', 'x-request-id': 'rid-2' });
    h.end();
    // It waits for Envoy's access-log entry of that local reply; none comes: out alone.
    expect(published).toHaveLength(0);
    merger.close();
    expect(published).toHaveLength(1);
    expect(decoded()[0]).toMatchObject({ requestId: 'rid-2', status: 0, tenant: '' });
    expect(published[0]!.key).toBe('');
  });
});
