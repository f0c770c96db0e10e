import type { SecureServerOptions } from 'node:http2';
import {
  status as GrpcStatus,
  type ChannelOptions,
  type Server,
  type ServerCredentials,
} from '@grpc/grpc-js';
import { HealthService } from './health';
import { jsonLogger, type Logger } from './logger';
import { ExtProcMetrics, type MetricsOptions, type StreamCounts } from './metrics';
import { asComposition, type AnyProcessor, type Composition, type ErrorPolicy } from './processor';
import {
  createStreamRuntime,
  ExtProcStream,
  type ExtProcHooks,
  type StreamOutcome,
  type StreamRuntime,
} from './stream';
import { GrpcJsTransport } from './transport/grpc-js';
import { Http2Transport, type TransportHost } from './transport/http2';
import { DEFAULT_MAX_RECEIVE_BYTES, type FrameError } from './transport/wire';

export { appliedHeaderName, DEFAULT_APPLIED_HEADER } from './stream';
export { raiseStreamResetLimit } from './transport/grpc-js';

/**
 * Envoy resets (RST_STREAM) an ext_proc stream whenever its HTTP request ends before the gRPC
 * stream is closed, so under load Envoy sends one reset per request. Node's HTTP/2 layer
 * (nghttp2's rapid-reset guard, CVE-2023-44487) accepts a burst of 1000 then 33 resets/s per
 * connection by default; past that it closes the whole connection to Envoy and every request in
 * flight on it fails closed. The server raises Node's `streamResetBurst` / `streamResetRate` to
 * this. Envoy is a trusted peer on a private port; the limit still caps a misbehaving one.
 */
export const DEFAULT_STREAM_RESET_RATE = 100_000;

export const EXT_PROC_SERVICE = 'envoy.service.ext_proc.v3.ExternalProcessor';
export const DEFAULT_SELECTOR_KEY = 'x-ext-proc-processor';

export interface ExtProcServerOptions {
  /** The processor (or `compose([...])` chain) this server runs for every stream. */
  processor?: AnyProcessor | Composition;
  /**
   * Several processors on one server, one per Envoy ext_proc filter: each filter picks its
   * processor by name with gRPC initial metadata (`grpc_service.initial_metadata`:
   * `{ key: 'x-ext-proc-processor', value: '<name>' }`). Without the metadata, `processor`
   * (or the only entry here) is used; an unknown name is rejected with NOT_FOUND.
   */
  processors?: readonly (AnyProcessor | Composition)[];
  /** gRPC metadata key that selects the processor. Default `x-ext-proc-processor`. */
  selectorMetadataKey?: string;
  /** Default `127.0.0.1` (loopback; set the pod or host address to serve another machine's Envoy). */
  host?: string;
  /** Default 0 (an OS-assigned port; read it from `listen()`'s result). */
  port?: number;
  /**
   * Streams served at once (each Envoy HTTP request holds one). Over the bound, a new stream
   * is refused at once with RESOURCE_EXHAUSTED: Envoy then applies `failure_mode_allow`
   * (fail closed by default) instead of queueing behind a stuck processor. Default 1024.
   */
  maxConcurrentStreams?: number;
  /** What a throwing/rejecting hook becomes. Default `{ status: 500 }` (fail closed). */
  errorPolicy?: ErrorPolicy;
  /** Default: `jsonLogger()` (JSON lines on stdout, level info). */
  logger?: Logger;
  /** Prometheus metrics; `false` turns them off. Default: on, in a new Registry. */
  metrics?: MetricsOptions | false;
  hooks?: ExtProcHooks;
  /** Add a response header listing the processors applied: `true` = `x-ext-procs-applied`. */
  appliedHeader?: boolean | string;
  /** Send each processor's declared mode as `mode_override` (Envoy: `allow_mode_override: true`). */
  enforceMode?: boolean;
  /**
   * End each gRPC stream (status OK) as soon as the last phase the processor's declared `mode`
   * expects was answered; Envoy then continues without further calls. Default true. This spares
   * the RST_STREAM Envoy otherwise sends per request, which Node's HTTP/2 rapid-reset guard
   * answers by closing the connection (GOAWAY) under load. Declare `mode` truthfully. In
   * Envoy's `observability_mode` (no answers are due) the stream ends with OK once the last
   * expected phase's hooks ran; otherwise Envoy would hold it open until `deferred_close_timeout`.
   */
  closeAfterLastPhase?: boolean;
  /**
   * RST_STREAM frames per second (and burst) accepted from Envoy before Node's HTTP/2 layer
   * treats it as a rapid-reset attack and closes the connection. Default 100 000. See
   * `raiseStreamResetLimit`.
   */
  streamResetRate?: number;
  /**
   * How ext_proc is served. `'http2'` (default): processor-core's own gRPC transport on
   * `node:http2` (ext_proc and grpc.health.v1 on one port; see the README for what it
   * implements). `'grpc-js'`: @grpc/grpc-js's Server, for `credentials`, `grpcOptions` and your
   * own services on `grpc`; it costs about twice the CPU per stream.
   */
  transport?: 'http2' | 'grpc-js';
  /** TLS for the `http2` transport (`node:http2` secure server options: key, cert, ca...). */
  tls?: SecureServerOptions;
  /**
   * Largest ext_proc message accepted; a larger one ends the stream with RESOURCE_EXHAUSTED.
   * Default 4 MiB (as grpc-js). With `transport: 'grpc-js'` use `grpcOptions`.
   */
  maxReceiveMessageBytes?: number;
  /** Largest answer sent (-1 = unlimited, the default, as grpc-js). */
  maxSendMessageBytes?: number;
  /** Grace period for in-flight streams at shutdown before they are cut. Default 10 s. */
  shutdownGraceMs?: number;
  /** Time between reporting NOT_SERVING and refusing new streams at shutdown. Default 0. */
  drainDelayMs?: number;
  /** grpc-js server credentials: `transport: 'grpc-js'` only (the `http2` transport takes `tls`). */
  credentials?: ServerCredentials;
  /** grpc-js channel options: `transport: 'grpc-js'` only. */
  grpcOptions?: ChannelOptions;
}

export interface ExtProcServer {
  /** Binds and starts serving; resolves with the bound port. */
  listen(): Promise<number>;
  /** NOT_SERVING, stop accepting, drain in-flight streams up to the grace period, then force. */
  shutdown(opts?: { graceMs?: number }): Promise<void>;
  /** Calls `shutdown()` on these signals (default SIGTERM, SIGINT). Returns an unsubscribe. */
  shutdownOnSignals(signals?: NodeJS.Signals[]): () => void;
  readonly port: number;
  readonly health: HealthService;
  readonly metrics: ExtProcMetrics | undefined;
  readonly activeStreams: number;
  /**
   * The underlying grpc-js server with `transport: 'grpc-js'` (add your own services before
   * `listen()`); undefined with the default `http2` transport.
   */
  readonly grpc: Server | undefined;
}

/** Creates the gRPC server that serves `envoy.service.ext_proc.v3.ExternalProcessor` and grpc.health.v1. */
export function createExtProcServer(options: ExtProcServerOptions): ExtProcServer {
  return new ExtProcServerImpl(options);
}

class ExtProcServerImpl implements ExtProcServer, TransportHost {
  readonly health: HealthService;
  readonly metrics: ExtProcMetrics | undefined;
  readonly logger: Logger;
  readonly selectorKey: string;
  readonly closeAfterLastPhase: boolean;
  private readonly transport: Http2Transport | GrpcJsTransport;
  private readonly rt: StreamRuntime;
  private readonly byName = new Map<string, Composition>();
  /** Per-composition stream counts (plain numbers; the metrics read them when collected). */
  private readonly streamMetrics = new Map<string, StreamCounts>();
  private readonly fallback: Composition | undefined;
  private readonly max: number;
  private readonly streams = new Set<ExtProcStream>();
  private boundPort = 0;
  private draining = false;
  private shutdownPromise: Promise<void> | undefined;

  constructor(private readonly opts: ExtProcServerOptions) {
    const list = [...(opts.processors ?? [])].map(asComposition);
    const main = opts.processor !== undefined ? asComposition(opts.processor) : undefined;
    for (const c of main !== undefined ? [main, ...list] : list) {
      if (this.byName.has(c.name) && this.byName.get(c.name) !== c)
        throw new Error(`duplicate processor name: ${c.name}`);
      this.byName.set(c.name, c);
    }
    if (this.byName.size === 0)
      throw new Error('createExtProcServer: give `processor` or `processors`');
    this.fallback = main ?? (list.length === 1 ? list[0] : undefined);
    this.selectorKey = (opts.selectorMetadataKey ?? DEFAULT_SELECTOR_KEY).toLowerCase();
    this.max = opts.maxConcurrentStreams ?? 1024;
    this.logger = opts.logger ?? jsonLogger();
    this.metrics = opts.metrics === false ? undefined : new ExtProcMetrics(opts.metrics ?? {});
    this.closeAfterLastPhase = opts.closeAfterLastPhase ?? true;
    this.rt = createStreamRuntime({ ...opts, metrics: this.metrics }, this.logger);
    if (this.metrics !== undefined) {
      for (const name of this.byName.keys()) {
        this.streamMetrics.set(name, this.metrics.streams(name));
      }
    }
    this.health = new HealthService([EXT_PROC_SERVICE, ...this.byName.keys()]);
    const h2Settings = this.max + 16;
    const resetRate = opts.streamResetRate ?? DEFAULT_STREAM_RESET_RATE;
    if (opts.transport === 'grpc-js') {
      this.transport = new GrpcJsTransport(this, {
        maxConcurrentStreams: h2Settings,
        streamResetRate: resetRate,
        credentials: opts.credentials,
        grpcOptions: opts.grpcOptions,
      });
    } else {
      if (opts.credentials !== undefined || opts.grpcOptions !== undefined) {
        throw new Error(
          "createExtProcServer: `credentials` and `grpcOptions` are grpc-js options; use `tls` (and the size options) or `transport: 'grpc-js'`",
        );
      }
      this.transport = new Http2Transport(this, {
        maxConcurrentStreams: h2Settings,
        maxReceiveMessageBytes: opts.maxReceiveMessageBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
        maxSendMessageBytes: opts.maxSendMessageBytes ?? -1,
        streamResetRate: resetRate,
        tls: opts.tls,
      });
    }
  }

  get grpc(): Server | undefined {
    return this.transport instanceof GrpcJsTransport ? this.transport.grpc : undefined;
  }
  get port(): number {
    return this.boundPort;
  }
  get activeStreams(): number {
    return this.streams.size;
  }

  async listen(): Promise<number> {
    const port = await this.transport.listen(this.opts.host ?? '127.0.0.1', this.opts.port ?? 0);
    this.boundPort = port;
    this.logger.info(
      {
        port,
        processors: [...this.byName.keys()],
        transport: this.opts.transport ?? 'http2',
      },
      'ext_proc server listening',
    );
    return port;
  }

  private refuse(code: GrpcStatus, reason: string, details: string): FrameError {
    this.metrics?.streamsRejected.labels(reason).inc();
    return { code, details };
  }

  /** TransportHost: a new ext_proc stream, or why it is refused. */
  open(
    selector: string | undefined,
    md: Readonly<Record<string, string>> | undefined,
  ): ExtProcStream | FrameError {
    if (this.draining)
      return this.refuse(GrpcStatus.UNAVAILABLE, 'draining', 'server is shutting down');
    if (this.streams.size >= this.max) {
      this.logger.warn(
        { active: this.streams.size, max: this.max },
        'ext_proc stream refused: concurrency bound',
      );
      return this.refuse(
        GrpcStatus.RESOURCE_EXHAUSTED,
        'concurrency',
        'too many concurrent streams',
      );
    }
    let comp = this.fallback;
    if (selector !== undefined) {
      comp = this.byName.get(selector);
      if (comp === undefined) {
        this.logger.warn({ processor: selector }, 'ext_proc stream refused: unknown processor');
        return this.refuse(
          GrpcStatus.NOT_FOUND,
          'unknown_processor',
          `unknown processor ${selector}`,
        );
      }
    }
    if (comp === undefined) {
      return this.refuse(
        GrpcStatus.INVALID_ARGUMENT,
        'no_selector',
        `missing ${this.selectorKey} metadata`,
      );
    }
    const stream = new ExtProcStream(comp, this.rt, md);
    this.streams.add(stream);
    const m = this.streamMetrics.get(comp.name);
    if (m !== undefined) {
      m.active++;
      m.total++;
    }
    return stream;
  }

  /** TransportHost: the stream is over. */
  close(stream: ExtProcStream, outcome: StreamOutcome): void {
    if (stream.isEnded) return;
    stream.end(outcome);
    this.streams.delete(stream);
    const m = this.streamMetrics.get(stream.name);
    if (m !== undefined) {
      m.active--;
      if (outcome === 'error' || stream.errored) m.errored++;
    }
  }

  shutdown(opts: { graceMs?: number } = {}): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(opts.graceMs ?? this.opts.shutdownGraceMs ?? 10_000);
    return this.shutdownPromise;
  }

  private async doShutdown(graceMs: number): Promise<void> {
    this.health.set('NOT_SERVING');
    this.health.endWatches();
    const delay = this.opts.drainDelayMs ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    this.draining = true;
    this.logger.info({ active: this.streams.size, graceMs }, 'ext_proc server draining');
    const forced = await this.transport.close(graceMs);
    for (const s of [...this.streams]) this.close(s, 'cancelled');
    this.logger.info({ forced }, 'ext_proc server stopped');
  }

  shutdownOnSignals(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): () => void {
    const onSignal = (sig: NodeJS.Signals): void => {
      this.logger.info({ signal: sig }, 'ext_proc server: shutdown requested');
      this.shutdown().then(
        () => undefined,
        (err: unknown) => this.logger.error({ err }, 'ext_proc shutdown failed'),
      );
    };
    for (const s of signals) process.once(s, onSignal);
    return () => {
      for (const s of signals) process.off(s, onSignal);
    };
  }
}
