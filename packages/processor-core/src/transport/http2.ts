// The lean ext_proc transport: gRPC's wire protocol spoken directly on node:http2, serving
// envoy.service.ext_proc.v3.ExternalProcessor/Process and grpc.health.v1 on one port. It exists
// because grpc-js's per-call machinery (call objects, interceptors, metadata, Duplex streams)
// cost more CPU per ext_proc stream than the processor's own work; see docs/benchmarks.md.
import {
  constants as h2c,
  createSecureServer,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type SecureServerOptions,
  type ServerHttp2Stream,
  type ServerOptions,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { extProc, health, reusingEncoder } from '@edge/protos';
import type { HealthService } from '../health';
import type { Logger } from '../logger';
import { UNTOUCHED_RESPONSES } from '../phase';
import { ExtProcStream, type StreamOutcome } from '../stream';
import { StreamPump } from './pump';
import {
  encodeGrpcMessage,
  frame,
  FrameReader,
  GrpcStatus,
  parseGrpcTimeout,
  type FrameError,
} from './wire';

export const PROCESS_PATH = '/envoy.service.ext_proc.v3.ExternalProcessor/Process';
const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const HEALTH_WATCH_PATH = '/grpc.health.v1.Health/Watch';

/** What the transport needs from the server that owns it. */
export interface TransportHost {
  readonly logger: Logger;
  readonly health: HealthService;
  readonly closeAfterLastPhase: boolean;
  /** Lower-case gRPC metadata key that selects the processor. */
  readonly selectorKey: string;
  /** A new ext_proc stream: its `ExtProcStream`, or why it is refused. */
  open(
    selector: string | undefined,
    grpcMetadata: Readonly<Record<string, string>> | undefined,
  ): ExtProcStream | FrameError;
  /** The stream is over (called once per opened stream). */
  close(stream: ExtProcStream, outcome: StreamOutcome): void;
}

export interface Http2TransportOptions {
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  maxConcurrentStreams: number;
  maxReceiveMessageBytes: number;
  /** -1 = unlimited. */
  maxSendMessageBytes: number;
  streamResetRate: number;
  tls: SecureServerOptions | undefined;
}

// The fewest headers a gRPC answer needs (Envoy decodes every one); grpc-accept-encoding is
// sent with errors, where it matters (a refused grpc-encoding).
const RESPONSE_HEADERS: OutgoingHttpHeaders = {
  ':status': 200,
  'content-type': 'application/grpc',
};
const OK_TRAILERS: OutgoingHttpHeaders = { 'grpc-status': '0' };
const OK_TRAILERS_ONLY: OutgoingHttpHeaders = { ...RESPONSE_HEADERS, 'grpc-status': '0' };
const WAIT_FOR_TRAILERS = { waitForTrailers: true };
const END_STREAM = { endStream: true };
const kCall = Symbol('edge.extProcCall');
const MESSAGES: Uint8Array[] = [];
type Tagged = ServerHttp2Stream & { [kCall]?: Http2Call };

// Untouched phases answer with the same few bytes every time: encode them once.
const PRE_ENCODED = new Map<extProc.ProcessingResponse, Buffer>(
  Object.values(UNTOUCHED_RESPONSES).map((r) => [
    r,
    frame(extProc.ProcessingResponse.encode(r).finish()),
  ]),
);

// One reused BinaryWriter for every answer (a new one per message cost more than encoding a
// small answer: bench:encode).
export const encodeResponse = reusingEncoder(extProc.ProcessingResponse);

function trailersOnly(stream: ServerHttp2Stream, code: GrpcStatus, details: string): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond(
    {
      ...RESPONSE_HEADERS,
      'grpc-accept-encoding': 'identity',
      'grpc-status': String(code),
      'grpc-message': encodeGrpcMessage(details),
    },
    END_STREAM,
  );
  // Discard whatever the client still sends; the stream closes when the client ends or
  // resets it (Envoy resets it as soon as it has the status).
  stream.resume();
}

/** Stream event handlers, shared by every stream (`this` is the stream): no per-stream closures. */
function onData(this: Tagged, chunk: Buffer): void {
  this[kCall]?.onData(chunk);
}
function onEnd(this: Tagged): void {
  this[kCall]?.halfClose();
}
function onClose(this: Tagged): void {
  this[kCall]?.onClosed();
  // Node keeps a closed stream's objects until a mark-compact (its native handle is held
  // weakly), so they are often promoted: let them not take the call along (see pump.ts RELEASED).
  this[kCall] = undefined;
}
function onError(this: Tagged, err: Error): void {
  this[kCall]?.onError(err);
}
function onWantTrailers(this: Tagged): void {
  const c = this[kCall];
  this.sendTrailers(c !== undefined ? c.trailers : OK_TRAILERS);
}
function onDrain(this: Tagged): void {
  const c = this[kCall];
  if (c !== undefined) c.waitingDrain = false;
  if (c === undefined || c.backlog < 16) this.resume();
}

/** One ext_proc stream on HTTP/2. */
class Http2Call extends StreamPump {
  private readonly reader: FrameReader;
  private responded = false;
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  trailers: OutgoingHttpHeaders = OK_TRAILERS;
  /** Writing is backpressured: reading stays paused until 'drain'. */
  waitingDrain = false;

  constructor(
    private readonly t: Http2Transport,
    private readonly h2: Tagged,
    ext: ExtProcStream,
    deadlineMs: number | undefined,
  ) {
    super(ext);
    this.reader = new FrameReader(t.opts.maxReceiveMessageBytes);
    h2[kCall] = this;
    h2.on('data', onData);
    h2.on('end', onEnd);
    h2.on('close', onClose);
    if (deadlineMs !== undefined) {
      this.timer = setTimeout(() => {
        this.t.host.logger.debug(
          { requestId: ext.info.requestId, processor: ext.name },
          'ext_proc stream deadline exceeded',
        );
        this.fail(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded', 'cancelled');
      }, deadlineMs);
    }
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
    // One scratch list for every stream: 'data' handlers run one at a time, never nested.
    const msgs = MESSAGES;
    const err = this.reader.push(chunk, msgs);
    if (err !== undefined) {
      msgs.length = 0;
      this.t.host.logger.warn(
        { requestId: this.ext.info.requestId, code: err.code, details: err.details },
        'ext_proc stream refused a message',
      );
      this.fail(err.code, err.details, 'error');
      return;
    }
    for (let i = 0; i < msgs.length; i++) {
      let req: extProc.ProcessingRequest;
      try {
        req = extProc.ProcessingRequest.decode(msgs[i]!);
      } catch (e) {
        msgs.length = 0;
        this.t.host.logger.warn(
          { err: e, requestId: this.ext.info.requestId },
          'ext_proc message could not be decoded',
        );
        this.fail(GrpcStatus.INTERNAL, 'Error deserializing request', 'error');
        return;
      }
      this.receive(req);
      if (this.done) break;
    }
    msgs.length = 0;
    // Flow control: stop reading while the processor lags behind (Envoy's window then fills).
    if (this.backlog >= 16 && !this.done) this.h2.pause();
  }

  protected deliver(res: extProc.ProcessingResponse, last: boolean): boolean {
    if (this.done) return true;
    let out = PRE_ENCODED.get(res);
    if (out === undefined) {
      const body = encodeResponse(res);
      const max = this.t.opts.maxSendMessageBytes;
      if (max >= 0 && body.length > max) {
        this.fail(
          GrpcStatus.RESOURCE_EXHAUSTED,
          `Sent message larger than max (${body.length} vs. ${max})`,
          'error',
        );
        return true;
      }
      out = frame(body);
    }
    const h2 = this.h2;
    if (h2.destroyed || !h2.writable) return true;
    if (!this.responded) {
      this.responded = true;
      h2.on('wantTrailers', onWantTrailers);
      h2.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    }
    if (last && this.t.host.closeAfterLastPhase) {
      // Answer and end with OK: headers and message go out in one write; Node defers the
      // trailers ('wantTrailers' → sendTrailers → setImmediate) to a second write of ~10 bytes.
      this.end('completed', OK_TRAILERS);
      h2.end(out);
      return true;
    }
    if (!h2.write(out) && !this.waitingDrain) {
      this.waitingDrain = true;
      h2.pause();
      h2.once('drain', onDrain);
    }
    if (!this.waitingDrain && this.backlog < 4 && h2.isPaused()) h2.resume();
    return false;
  }

  protected peerDone(): void {
    if (this.done) return;
    this.end('completed', OK_TRAILERS);
    const h2 = this.h2;
    if (h2.destroyed || !h2.writable) return;
    if (!this.responded) {
      // Trailers-only OK (observability mode: nothing was ever answered on this stream).
      h2.respond(OK_TRAILERS_ONLY, END_STREAM);
      h2.resume();
    } else h2.end();
  }

  protected lastUnanswered(): boolean {
    if (!this.t.host.closeAfterLastPhase) return false;
    this.peerDone();
    return true;
  }

  /** Ends the stream with an error status (trailers), or resets it when it cannot. */
  fail(code: GrpcStatus, details: string, outcome: StreamOutcome): void {
    if (this.done) return;
    this.end(outcome, { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) });
    const h2 = this.h2;
    if (h2.destroyed) return;
    if (!this.responded) trailersOnly(h2, code, details);
    else if (h2.writable) h2.end();
    else h2.close(h2c.NGHTTP2_CANCEL);
  }

  onClosed(): void {
    if (this.done) return;
    // Envoy reset the stream (client gone, message_timeout, local reply) or the session died.
    this.t.host.logger.debug(
      { requestId: this.ext.info.requestId, processor: this.ext.name },
      'ext_proc stream cancelled by Envoy',
    );
    this.end('cancelled', OK_TRAILERS);
  }

  onError(err: Error & { code?: string }): void {
    if (this.done) return;
    if (err.code === 'ERR_HTTP2_STREAM_ERROR' || err.code === 'ERR_HTTP2_STREAM_CANCEL') {
      this.onClosed();
      return;
    }
    this.t.host.logger.warn(
      { err, requestId: this.ext.info.requestId, processor: this.ext.name },
      'ext_proc stream error',
    );
    this.end('error', OK_TRAILERS);
  }

  private end(outcome: StreamOutcome, trailers: OutgoingHttpHeaders): void {
    this.done = true;
    this.trailers = trailers;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.t.host.close(this.ext, outcome);
    this.release();
  }
}

/** Serves ext_proc and grpc.health.v1 on node:http2. */
export class Http2Transport {
  private readonly server: Http2Server;
  private readonly sessions = new Set<Http2Session>();
  private closing = false;

  constructor(
    readonly host: TransportHost,
    readonly opts: Http2TransportOptions,
  ) {
    const base: ServerOptions = {
      settings: { maxConcurrentStreams: opts.maxConcurrentStreams },
      // As grpc-js: no session memory cap (Node's 10 MB default answers bursts with
      // ENHANCE_YOUR_CALM); Envoy is the one trusted peer.
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      // Envoy resets its ext_proc stream at the end of each request; see DEFAULT_STREAM_RESET_RATE.
      streamResetBurst: opts.streamResetRate,
      streamResetRate: opts.streamResetRate,
    };
    this.server =
      opts.tls !== undefined ? createSecureServer({ ...opts.tls, ...base }) : createServer(base);
    this.server.on('session', this.onSession);
    this.server.on('stream', this.onStream);
  }

  listen(hostname: string, port: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const onErr = (err: Error): void => reject(err);
      this.server.once('error', onErr);
      this.server.listen(port, hostname, () => {
        this.server.off('error', onErr);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Graceful close: stop accepting connections, GOAWAY on every connection (streams in flight
   * finish), then after `graceMs` destroy what is left. Resolves true when it had to force.
   */
  close(graceMs: number): Promise<boolean> {
    this.closing = true;
    return new Promise<boolean>((resolve) => {
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        for (const s of this.sessions) s.destroy();
      }, graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve(forced);
      });
      for (const s of this.sessions) s.close();
    });
  }

  private readonly onSession = (session: Http2Session): void => {
    if (this.closing) {
      session.close();
      return;
    }
    this.sessions.add(session);
    session.on('close', () => this.sessions.delete(session));
    session.on('error', (err: Error) =>
      this.host.logger.debug({ err }, 'ext_proc HTTP/2 connection error'),
    );
  };

  private readonly onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    // The one error handler, before anything can fail (it is a no-op until a call is attached).
    stream.on('error', onError);
    if (headers[':method'] !== 'POST') {
      stream.respond({ ':status': 405 }, END_STREAM);
      stream.resume();
      return;
    }
    const ct = headers['content-type'];
    if (ct === undefined || !ct.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, END_STREAM);
      stream.resume();
      return;
    }
    const enc = headers['grpc-encoding'];
    if (enc !== undefined && enc !== 'identity') {
      // We accept no compression; say so instead of failing to parse.
      trailersOnly(
        stream,
        GrpcStatus.UNIMPLEMENTED,
        `grpc-encoding ${String(enc)} is not supported (identity only)`,
      );
      return;
    }
    const deadline = parseGrpcTimeout(headers['grpc-timeout']);
    if (deadline !== undefined && Number.isNaN(deadline)) {
      trailersOnly(stream, GrpcStatus.INTERNAL, 'malformed grpc-timeout');
      return;
    }
    switch (headers[':path']) {
      case PROCESS_PATH:
        return this.process(stream, headers, deadline);
      case HEALTH_CHECK_PATH:
      case HEALTH_WATCH_PATH:
        return this.healthCall(stream, headers[':path'] === HEALTH_WATCH_PATH);
      default:
        trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${headers[':path'] ?? ''}`);
    }
  };

  private process(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    deadlineMs: number | undefined,
  ): void {
    const sel = headers[this.host.selectorKey];
    const opened = this.host.open(typeof sel === 'string' ? sel : sel?.[0], undefined);
    if (!(opened instanceof ExtProcStream)) {
      trailersOnly(stream, opened.code, opened.details);
      return;
    }
    // The metadata record is built only if a processor reads ctx.grpcMetadata.
    opened.info.setLazyGrpcMetadata(headers, grpcMetadataOf);
    new Http2Call(this, stream, opened, deadlineMs);
  }

  /** grpc.health.v1 Check (unary) and Watch (server streaming). */
  private healthCall(stream: ServerHttp2Stream, watch: boolean): void {
    const reader = new FrameReader(64 * 1024);
    const msgs: Uint8Array[] = [];
    let started = false;
    stream.on('data', (chunk: Buffer) => {
      if (started) return;
      const err = reader.push(chunk, msgs);
      if (err !== undefined) {
        started = true;
        trailersOnly(stream, err.code, err.details);
        return;
      }
      const first = msgs[0];
      if (first === undefined) return;
      started = true;
      let service: string;
      try {
        service = health.HealthCheckRequest.decode(first).service;
      } catch {
        trailersOnly(stream, GrpcStatus.INTERNAL, 'Error deserializing request');
        return;
      }
      const write = (res: health.HealthCheckResponse): void => {
        if (!stream.destroyed && stream.writable)
          stream.write(frame(health.HealthCheckResponse.encode(res).finish()));
      };
      if (!watch) {
        const res = this.host.health.check(service);
        if (res === undefined) return trailersOnly(stream, GrpcStatus.NOT_FOUND, 'unknown service');
        stream.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
        stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
        write(res);
        stream.end();
        return;
      }
      stream.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
      stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
      const drop = this.host.health.watch(service, {
        write,
        end: () => {
          if (!stream.destroyed && stream.writable) stream.end();
        },
      });
      stream.once('close', drop);
    });
    stream.on('end', () => {
      if (!started) {
        started = true;
        trailersOnly(stream, GrpcStatus.INTERNAL, 'no request message');
      }
    });
  }
}

/** The gRPC metadata of a stream: its headers minus pseudo, transport and binary ones. */
function grpcMetadataOf(headers: IncomingHttpHeaders): Record<string, string> {
  const md: Record<string, string> = {};
  for (const k in headers) {
    if (k.charCodeAt(0) === 58 /* ':' */ || SKIPPED_METADATA.has(k) || k.endsWith('-bin')) continue;
    const v = headers[k];
    if (typeof v === 'string') md[k] = v;
    else if (Array.isArray(v)) md[k] = v.join(', ');
  }
  return md;
}

// What grpc-js strips from a server call's metadata, and transport-level headers.
const SKIPPED_METADATA = new Set([
  'content-type',
  'te',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'accept-encoding',
]);
