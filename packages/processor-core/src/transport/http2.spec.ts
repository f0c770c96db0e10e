// Conformance of the node:http2 ext_proc transport at the protocol edges Envoy can observe,
// driven by a raw HTTP/2 client (frames, headers and trailers as sent on the wire).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extProc } from '@edge/protos';
import { silentLogger } from '../logger';
import { createExtProcServer, type ExtProcServer, type ExtProcServerOptions } from '../server';
import type { StreamOutcome } from '../stream';
import { toHeaderMap } from '../testing/harness';
import { encodeResponse, PROCESS_PATH } from './http2';
import { frame, FrameReader, GrpcStatus } from './wire';

const servers: ExtProcServer[] = [];
const sessions: ClientHttp2Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ graceMs: 200 })));
});

async function start(
  opts: Partial<ExtProcServerOptions> = {},
): Promise<{ server: ExtProcServer; url: string }> {
  const server = createExtProcServer({
    host: '127.0.0.1',
    logger: silentLogger,
    processor: { name: 'p', onRequestHeaders: (_c, ph) => ph.setHeader('x-by', 'p') },
    ...opts,
  });
  servers.push(server);
  const port = await server.listen();
  return { server, url: `http://127.0.0.1:${port}` };
}

function session(url: string): ClientHttp2Session {
  const s = connect(url);
  s.on('error', () => undefined);
  sessions.push(s);
  return s;
}

function headersMessage(path = '/x', extra: Record<string, string> = {}): Buffer {
  const req: extProc.ProcessingRequest = {
    request: {
      $case: 'requestHeaders',
      value: {
        headers: toHeaderMap({ ':method': 'GET', ':path': path, ...extra }),
        attributes: {},
        endOfStream: true,
      },
    },
    metadataContext: undefined,
    attributes: {},
    observabilityMode: false,
  };
  return frame(extProc.ProcessingRequest.encode(req).finish());
}

interface Outcome {
  status: number | undefined;
  headers: Record<string, unknown>;
  trailers: Record<string, unknown>;
  responses: extProc.ProcessingResponse[];
  rstCode: number;
}

/** Opens one gRPC stream; resolves when it closes, with everything the client saw. */
function call(
  s: ClientHttp2Session,
  opts: { headers?: Record<string, string>; body?: Buffer[]; end?: boolean } = {},
): { stream: ClientHttp2Stream; done: Promise<Outcome> } {
  const stream = s.request({
    ':method': 'POST',
    ':path': PROCESS_PATH,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...opts.headers,
  });
  const out: Outcome = { status: undefined, headers: {}, trailers: {}, responses: [], rstCode: 0 };
  const reader = new FrameReader(16 * 1024 * 1024);
  const done = new Promise<Outcome>((resolve) => {
    stream.on('response', (h) => {
      out.headers = h;
      out.status = h[':status'];
      if (h['grpc-status'] !== undefined) stream.close(constants.NGHTTP2_CANCEL);
    });
    // Like Envoy: once the status is in, the stream is over (Envoy resets it).
    stream.on('trailers', (t) => {
      out.trailers = t;
      stream.close(constants.NGHTTP2_CANCEL);
    });
    stream.on('data', (c: Buffer) => {
      const msgs: Buffer[] = [];
      reader.push(c, msgs);
      for (const m of msgs) out.responses.push(extProc.ProcessingResponse.decode(m));
    });
    stream.on('error', () => undefined);
    stream.on('close', () => {
      out.rstCode = stream.rstCode ?? 0;
      resolve(out);
    });
  });
  for (const b of opts.body ?? []) stream.write(b);
  if (opts.end !== false) stream.end();
  return { stream, done };
}

/** grpc-status from trailers, or from headers for a trailers-only answer. */
const grpcStatus = (o: Outcome): number =>
  Number(o.trailers['grpc-status'] ?? o.headers['grpc-status'] ?? NaN);

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('FrameReader', () => {
  it('reassembles messages split at every byte and several messages in one chunk', () => {
    const a = frame(Buffer.from('hello'));
    const b = frame(Buffer.alloc(70_000, 7));
    const all = Buffer.concat([a, b, a]);
    const r = new FrameReader(1 << 20);
    const out: Buffer[] = [];
    for (let i = 0; i < all.length; i += 1) r.push(all.subarray(i, i + 1), out);
    expect(out.map((m) => m.length)).toEqual([5, 70_000, 5]);
    const whole: Buffer[] = [];
    new FrameReader(1 << 20).push(all, whole);
    expect(whole.map((m) => m.length)).toEqual([5, 70_000, 5]);
  });

  it('refuses a message over the limit and a compressed one', () => {
    expect(new FrameReader(10).push(frame(Buffer.alloc(11)), [])?.code).toBe(
      GrpcStatus.RESOURCE_EXHAUSTED,
    );
    const compressed = frame(Buffer.from('x'));
    compressed[0] = 1;
    expect(new FrameReader(10).push(compressed, [])?.code).toBe(GrpcStatus.UNIMPLEMENTED);
  });
});

describe('encodeResponse (one reused writer)', () => {
  const withHeader = (value: string): extProc.ProcessingResponse => ({
    response: {
      $case: 'requestHeaders',
      value: {
        response: {
          status: 0,
          headerMutation: {
            setHeaders: [
              {
                header: { key: 'x-a', value: '', rawValue: Buffer.from(value) },
                append: undefined,
                appendAction: 2,
                keepEmptyValue: false,
              },
            ],
            removeHeaders: [],
          },
          bodyMutation: undefined,
          trailers: undefined,
          clearRouteCache: false,
        },
      },
    },
    dynamicMetadata: { ns: { v: value } },
    modeOverride: undefined,
    overrideMessageTimeout: undefined,
  });
  const valueOf = (bytes: Uint8Array): string => {
    const r = extProc.ProcessingResponse.decode(bytes);
    const h = r.response?.$case === 'requestHeaders' ? r.response.value : undefined;
    return Buffer.from(h!.response!.headerMutation!.setHeaders[0]!.header!.rawValue).toString();
  };

  it('returns bytes of their own: a later encode never changes an earlier answer', () => {
    const first = encodeResponse(withHeader('first-value'));
    const big = encodeResponse(withHeader('x'.repeat(100_000)));
    const second = encodeResponse(withHeader('2nd'));
    expect(valueOf(first)).toBe('first-value');
    expect(valueOf(big)).toBe('x'.repeat(100_000));
    expect(valueOf(second)).toBe('2nd');
    expect(extProc.ProcessingResponse.decode(second).dynamicMetadata).toEqual({ ns: { v: '2nd' } });
  });
});

// Real sockets on a shared 2-core machine: generous per-test time.
describe('node:http2 transport: what Envoy sees', { timeout: 30_000 }, () => {
  it('answers with headers, one message and grpc-status 0 trailers after the last phase', async () => {
    const { url } = await start();
    const o = await call(session(url), { body: [headersMessage()], end: false }).done;
    expect(o.status).toBe(200);
    expect(o.headers['content-type']).toBe('application/grpc');
    expect(o.responses).toHaveLength(1);
    expect(o.responses[0]!.response?.$case).toBe('requestHeaders');
    expect(o.trailers['grpc-status']).toBe('0');
  });

  it('handles many messages per chunk and a message split across DATA frames (flow control)', async () => {
    const seen: number[] = [];
    const { url } = await start({
      processor: {
        name: 'b',
        mode: { requestHeaders: 'send', requestBody: 'streamed' },
        onRequestBody: (_c, b) => void seen.push(b.body.length),
      },
      closeAfterLastPhase: false,
    });
    const body = (n: number, eos: boolean): Buffer =>
      frame(
        extProc.ProcessingRequest.encode({
          request: { $case: 'requestBody', value: { body: Buffer.alloc(n, 1), endOfStream: eos } },
          metadataContext: undefined,
          attributes: {},
          observabilityMode: false,
        }).finish(),
      );
    // 3 MB in one message: far beyond the 64 KB initial window, so WINDOW_UPDATEs must flow.
    const chunk = Buffer.concat([headersMessage(), body(10, false), body(20, false)]);
    const o = await call(session(url), { body: [chunk, body(3_000_000, true)] }).done;
    expect(seen).toEqual([10, 20, 3_000_000]);
    expect(o.responses.map((r) => r.response?.$case)).toEqual([
      'requestHeaders',
      'requestBody',
      'requestBody',
      'requestBody',
    ]);
    expect(grpcStatus(o)).toBe(GrpcStatus.OK);
  });

  it('grpc-timeout: a stream past its deadline ends DEADLINE_EXCEEDED and the stream is closed', async () => {
    const ended: StreamOutcome[] = [];
    const { server, url } = await start({
      processor: { name: 'slow', onRequestHeaders: () => new Promise(() => undefined) },
      hooks: { onStreamEnd: (e) => void ended.push(e.outcome) },
    });
    const o = await call(session(url), {
      headers: { 'grpc-timeout': '100m' },
      body: [headersMessage()],
      end: false,
    }).done;
    expect(grpcStatus(o)).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(ended).toEqual(['cancelled']);
    expect(server.activeStreams).toBe(0);
  });

  it('a malformed grpc-timeout is refused', async () => {
    const { url } = await start();
    const o = await call(session(url), { headers: { 'grpc-timeout': 'soon' } }).done;
    expect(grpcStatus(o)).toBe(GrpcStatus.INTERNAL);
  });

  it('an Envoy reset (RST_STREAM) mid-hook ends the stream as cancelled; the session lives on', async () => {
    const ended: StreamOutcome[] = [];
    let release: () => void = () => undefined;
    const { server, url } = await start({
      processor: {
        name: 'slow',
        onRequestHeaders: (c) =>
          c.path === '/slow' ? new Promise<void>((r) => (release = r)) : undefined,
      },
      hooks: { onStreamEnd: (e) => void ended.push(e.outcome) },
    });
    const s = session(url);
    const c = call(s, { body: [headersMessage('/slow')], end: false });
    await until(() => server.activeStreams === 1);
    c.stream.close(constants.NGHTTP2_CANCEL);
    await c.done;
    await until(() => ended.length === 1);
    expect(ended).toEqual(['cancelled']);
    release(); // the late answer goes nowhere and breaks nothing
    const again = await call(s, { body: [headersMessage()], end: false }).done;
    expect(grpcStatus(again)).toBe(GrpcStatus.OK);
    expect(ended).toEqual(['cancelled', 'completed']);
  });

  it('shutdown sends GOAWAY, lets the in-flight stream finish OK and takes no new stream', async () => {
    let release: () => void = () => undefined;
    const { server, url } = await start({
      processor: {
        name: 'slow',
        onRequestHeaders: (_c, ph) =>
          new Promise<void>((r) => {
            release = () => {
              ph.setHeader('x-late', '1');
              r();
            };
          }),
      },
    });
    const s = session(url);
    let goaway: number | undefined;
    s.on('goaway', (code: number) => (goaway = code));
    const inflight = call(s, { body: [headersMessage()], end: false });
    await until(() => server.activeStreams === 1);
    const stopped = server.shutdown({ graceMs: 5000 });
    await until(() => goaway !== undefined);
    expect(goaway).toBe(constants.NGHTTP2_NO_ERROR);
    release();
    const o = await inflight.done;
    expect(grpcStatus(o)).toBe(GrpcStatus.OK);
    expect(o.responses).toHaveLength(1);
    await stopped;
    // The listener is gone: a new connection fails.
    const fresh = connect(url);
    const err = await new Promise<Error>((resolve) => fresh.on('error', resolve));
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('advertises SETTINGS_MAX_CONCURRENT_STREAMS and refuses streams over the bound with RESOURCE_EXHAUSTED', async () => {
    const { server, url } = await start({
      maxConcurrentStreams: 1,
      processor: { name: 'slow', onRequestHeaders: () => new Promise(() => undefined) },
    });
    const s = session(url);
    await new Promise<void>((r) => s.once('remoteSettings', () => r()));
    expect(s.remoteSettings.maxConcurrentStreams).toBe(17);
    call(s, { body: [headersMessage()], end: false });
    await until(() => server.activeStreams === 1);
    const o = await call(s, { body: [headersMessage()] }).done;
    expect(grpcStatus(o)).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(o.headers['grpc-message']).toBe('too many concurrent streams');
  });

  it('refuses a message over maxReceiveMessageBytes with RESOURCE_EXHAUSTED', async () => {
    const { url } = await start({ maxReceiveMessageBytes: 1024 });
    const big = headersMessage('/' + 'a'.repeat(2000));
    const o = await call(session(url), { body: [big], end: false }).done;
    expect(grpcStatus(o)).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
  });

  it('refuses an answer over maxSendMessageBytes with RESOURCE_EXHAUSTED', async () => {
    const { url } = await start({
      maxSendMessageBytes: 100,
      processor: { name: 'big', onRequestHeaders: (_c, ph) => ph.setHeader('x', 'y'.repeat(500)) },
    });
    const o = await call(session(url), { body: [headersMessage()], end: false }).done;
    expect(grpcStatus(o)).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(o.responses).toHaveLength(0);
  });

  it('refuses compression cleanly: grpc-encoding gzip, or a compressed-flag message', async () => {
    const { url } = await start();
    const gz = await call(session(url), { headers: { 'grpc-encoding': 'gzip' } }).done;
    expect(grpcStatus(gz)).toBe(GrpcStatus.UNIMPLEMENTED);
    expect(gz.headers['grpc-accept-encoding']).toBe('identity');
    const flagged = headersMessage();
    flagged[0] = 1;
    const o = await call(session(url), { body: [flagged], end: false }).done;
    expect(grpcStatus(o)).toBe(GrpcStatus.UNIMPLEMENTED);
  });

  it('a message that is not protobuf ends the stream INTERNAL, the server lives on', async () => {
    const { url } = await start();
    const s = session(url);
    const o = await call(s, { body: [frame(Buffer.from([0xff, 0xff, 0xff]))], end: false }).done;
    expect(grpcStatus(o)).toBe(GrpcStatus.INTERNAL);
    expect(grpcStatus(await call(s, { body: [headersMessage()], end: false }).done)).toBe(0);
  });

  it('unknown method -> UNIMPLEMENTED; not POST -> 405; not application/grpc -> 415', async () => {
    const { url } = await start();
    const s = session(url);
    const u = await call(s, { headers: { ':path': '/nope.Svc/Do' } }).done;
    expect(grpcStatus(u)).toBe(GrpcStatus.UNIMPLEMENTED);
    expect((await call(s, { headers: { ':method': 'GET' }, end: true }).done).status).toBe(405);
    expect((await call(s, { headers: { 'content-type': 'text/plain' } }).done).status).toBe(415);
  });

  it('Envoy half-closing during an async hook still gets the answer, then OK', async () => {
    const { url } = await start({
      processor: {
        name: 'slow',
        onRequestHeaders: async (_c, ph) => {
          await new Promise((r) => setTimeout(r, 50));
          ph.setHeader('x-late', '1');
        },
      },
      closeAfterLastPhase: false,
    });
    const o = await call(session(url), { body: [headersMessage()], end: true }).done;
    expect(o.responses).toHaveLength(1);
    expect(grpcStatus(o)).toBe(GrpcStatus.OK);
  });

  /**
   * 1,500 streams reset by the client while the server still works on them (a hook that never
   * answers; nghttp2 counts only those, not resets after the server's END_STREAM); true if the
   * connection got a GOAWAY.
   */
  async function resetStorm(opts: Partial<ExtProcServerOptions>): Promise<boolean> {
    const { server, url } = await start({
      processor: {
        name: 'slow',
        onRequestHeaders: (c) => (c.path === '/slow' ? new Promise(() => undefined) : undefined),
      },
      ...opts,
    });
    const s = session(url);
    let goaway = false;
    s.on('goaway', () => (goaway = true));
    for (let round = 0; round < 10 && !goaway; round++) {
      const batch = Array.from({ length: 150 }, () =>
        call(s, { body: [headersMessage('/slow')], end: false }),
      );
      await until(() => server.activeStreams >= 150 || goaway);
      for (const c of batch) c.stream.close(constants.NGHTTP2_CANCEL);
      await Promise.all(batch.map((c) => c.done));
    }
    if (!goaway) {
      await until(() => server.activeStreams === 0);
      expect(grpcStatus(await call(s, { body: [headersMessage()] }).done)).toBe(GrpcStatus.OK);
    }
    return goaway;
  }

  it('a reset storm from one connection does not trip the rapid-reset guard', async () => {
    expect(await resetStorm({})).toBe(false);
  });

  it('control: with a low streamResetRate the same storm is answered with GOAWAY', async () => {
    expect(await resetStorm({ streamResetRate: 50 })).toBe(true);
  });

  it('serves over TLS with the `tls` option (h2 via ALPN)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const { server } = await start({ tls: { key: readFileSync(join(dir, 'key.pem')), cert } });
    const s = connect(`https://localhost:${server.port}`, { ca: cert });
    s.on('error', () => undefined);
    sessions.push(s);
    const o = await call(s, { body: [headersMessage()], end: false }).done;
    expect(grpcStatus(o)).toBe(GrpcStatus.OK);
    expect(o.responses[0]!.response?.$case).toBe('requestHeaders');
  });
});
