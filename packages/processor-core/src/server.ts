import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ChannelOptions,
  type ServerDuplexStream,
} from '@grpc/grpc-js';
import { extProc } from '@edge/protos';
import { HealthService } from './health';
import { jsonLogger, type Logger } from './logger';
import { ExtProcMetrics, type MetricsOptions } from './metrics';
import { asComposition, type AnyProcessor, type Composition, type ErrorPolicy } from './processor';
import { ExtProcStream, type ExtProcHooks, type StreamRuntime } from './stream';

export const DEFAULT_STREAM_RESET_RATE = 100_000;

/**
 * Envoy resets (RST_STREAM) an ext_proc stream whenever its HTTP request ends before the gRPC
 * stream is closed, so under load Envoy sends one reset per request. Node's HTTP/2 layer
 * (nghttp2's rapid-reset guard, CVE-2023-44487) accepts a burst of 1000 then 33 resets/s per
 * connection by default; past that it closes the whole connection to Envoy and every request in
 * flight on it fails closed. grpc-js exposes no option for Node's `streamResetBurst` /
 * `streamResetRate`, so they are set on the http2 server options grpc-js builds (read when it
 * binds). Envoy is a trusted peer on a private port; the limit still caps a misbehaving one.
 */
export function raiseStreamResetLimit(server: Server, rate: number): void {
  const internals = server as unknown as { commonServerOptions?: Record<string, unknown> };
  if (internals.commonServerOptions === undefined) {
    throw new Error(
      'grpc-js internals changed: commonServerOptions missing; review raiseStreamResetLimit',
    );
  }
  internals.commonServerOptions.streamResetBurst = rate;
  internals.commonServerOptions.streamResetRate = rate;
}

export const EXT_PROC_SERVICE = 'envoy.service.ext_proc.v3.ExternalProcessor';
export const DEFAULT_SELECTOR_KEY = 'x-ext-proc-processor';
export const DEFAULT_APPLIED_HEADER = 'x-ext-procs-applied';

/** The `appliedHeader` option as a header name: `true` = the default name, a string = itself. */
export function appliedHeaderName(option: boolean | string | undefined): string | undefined {
  if (option === true) return DEFAULT_APPLIED_HEADER;
  return typeof option === 'string' ? option : undefined;
}

type Call = ServerDuplexStream<extProc.ProcessingRequest, extProc.ProcessingResponse>;

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
  /** Default `0.0.0.0`. */
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
   * answers by closing the connection (GOAWAY) under load. Declare `mode` truthfully.
   */
  closeAfterLastPhase?: boolean;
  /**
   * RST_STREAM frames per second (and burst) accepted from Envoy before Node's HTTP/2 layer
   * treats it as a rapid-reset attack and closes the connection. Default 100 000. See
   * `raiseStreamResetLimit`.
   */
  streamResetRate?: number;
  /** Grace period for in-flight streams at shutdown before they are cut. Default 10 s. */
  shutdownGraceMs?: number;
  /** Time between reporting NOT_SERVING and refusing new streams at shutdown. Default 0. */
  drainDelayMs?: number;
  credentials?: ServerCredentials;
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
  /** The underlying grpc-js server (add your own services before `listen()`). */
  readonly grpc: Server;
}

/** Creates the gRPC server that serves `envoy.service.ext_proc.v3.ExternalProcessor` and grpc.health.v1. */
export function createExtProcServer(options: ExtProcServerOptions): ExtProcServer {
  return new ExtProcServerImpl(options);
}

class ExtProcServerImpl implements ExtProcServer {
  readonly grpc: Server;
  readonly health: HealthService;
  readonly metrics: ExtProcMetrics | undefined;
  private readonly rt: StreamRuntime;
  private readonly byName = new Map<string, Composition>();
  private readonly fallback: Composition | undefined;
  private readonly selectorKey: string;
  private readonly max: number;
  private readonly logger: Logger;
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
    this.rt = {
      logger: this.logger,
      errorPolicy: opts.errorPolicy ?? { status: 500 },
      metrics: this.metrics,
      hooks: opts.hooks,
      appliedHeader: appliedHeaderName(opts.appliedHeader),
      enforceMode: opts.enforceMode ?? false,
      closeAfterLastPhase: opts.closeAfterLastPhase ?? true,
    };
    this.grpc = new Server({ 'grpc.max_concurrent_streams': this.max + 16, ...opts.grpcOptions });
    raiseStreamResetLimit(this.grpc, opts.streamResetRate ?? DEFAULT_STREAM_RESET_RATE);
    this.grpc.addService(extProc.ExternalProcessorService, { process: this.handle });
    this.health = new HealthService([EXT_PROC_SERVICE, ...this.byName.keys()]);
    this.health.register(this.grpc);
  }

  get port(): number {
    return this.boundPort;
  }
  get activeStreams(): number {
    return this.streams.size;
  }

  listen(): Promise<number> {
    const host = this.opts.host ?? '0.0.0.0';
    const creds = this.opts.credentials ?? ServerCredentials.createInsecure();
    return new Promise<number>((resolve, reject) => {
      this.grpc.bindAsync(`${host}:${this.opts.port ?? 0}`, creds, (err, port) => {
        if (err !== null) return reject(err);
        this.boundPort = port;
        this.logger.info(
          { port, processors: [...this.byName.keys()] },
          'ext_proc server listening',
        );
        resolve(port);
      });
    });
  }

  private reject(call: Call, code: GrpcStatus, reason: string, details: string): void {
    this.metrics?.streamsRejected.labels(reason).inc();
    call.emit('error', { code, details });
  }

  private readonly handle = (call: Call): void => {
    if (this.draining)
      return this.reject(call, GrpcStatus.UNAVAILABLE, 'draining', 'server is shutting down');
    if (this.streams.size >= this.max) {
      this.logger.warn(
        { active: this.streams.size, max: this.max },
        'ext_proc stream refused: concurrency bound',
      );
      return this.reject(
        call,
        GrpcStatus.RESOURCE_EXHAUSTED,
        'concurrency',
        'too many concurrent streams',
      );
    }
    let comp = this.fallback;
    const sel = call.metadata.get(this.selectorKey)[0];
    if (sel !== undefined) {
      comp = this.byName.get(String(sel));
      if (comp === undefined) {
        this.logger.warn({ processor: String(sel) }, 'ext_proc stream refused: unknown processor');
        return this.reject(
          call,
          GrpcStatus.NOT_FOUND,
          'unknown_processor',
          `unknown processor ${String(sel)}`,
        );
      }
    }
    if (comp === undefined) {
      return this.reject(
        call,
        GrpcStatus.INVALID_ARGUMENT,
        'no_selector',
        `missing ${this.selectorKey} metadata`,
      );
    }
    const md: Record<string, string> = {};
    const map = call.metadata.getMap();
    for (const k in map) {
      const v = map[k];
      if (typeof v === 'string') md[k] = v;
    }
    const name = comp.name;
    const stream = new ExtProcStream(comp, this.rt, (res) => call.write(res), md);
    this.streams.add(stream);
    const m = this.metrics;
    m?.streamsActive.labels(name).inc();
    m?.streamsTotal.labels(name).inc();

    const finish = (outcome: 'completed' | 'cancelled' | 'error'): void => {
      if (stream.isEnded) return;
      stream.end(outcome);
      this.streams.delete(stream);
      if (m !== undefined) {
        m.streamsActive.labels(name).dec();
        if (outcome === 'error' || stream.errored) m.streamsErrored.labels(name).inc();
      }
    };
    if (this.rt.closeAfterLastPhase === true) {
      stream.onLastPhase = () => {
        finish('completed');
        call.end();
      };
    }
    call.on('data', (req: extProc.ProcessingRequest) => stream.push(req));
    call.on('end', () => {
      // Envoy half-closed: the HTTP request is over. Close our side with OK (once).
      if (stream.isEnded) return;
      finish('completed');
      call.end();
    });
    call.on('cancelled', () => {
      // Envoy reset the stream (client gone, message_timeout, local reply): normal.
      this.logger.debug(
        { requestId: stream.info.requestId, processor: name },
        'ext_proc stream cancelled by Envoy',
      );
      finish('cancelled');
    });
    call.on('error', (err: Error & { code?: number }) => {
      if (err.code === GrpcStatus.CANCELLED) {
        this.logger.debug(
          { requestId: stream.info.requestId, processor: name },
          'ext_proc stream reset',
        );
        finish('cancelled');
        return;
      }
      this.logger.warn(
        { err, requestId: stream.info.requestId, processor: name },
        'ext_proc stream error',
      );
      finish('error');
    });
  };

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
    const forced = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve(true);
      }, graceMs);
      timer.unref();
      this.grpc.tryShutdown(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    for (const s of [...this.streams]) {
      s.end('cancelled');
      this.streams.delete(s);
    }
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
