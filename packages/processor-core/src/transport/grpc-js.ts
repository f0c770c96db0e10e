// The grpc-js transport (`transport: 'grpc-js'`): ext_proc served through @grpc/grpc-js's
// Server, for users who need grpc-js credentials or their own gRPC services on the same port.
import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ChannelOptions,
  type ServerDuplexStream,
} from '@grpc/grpc-js';
import { extProc } from '@edge/protos';
import { ExtProcStream, type StreamOutcome } from '../stream';
import type { TransportHost } from './http2';
import { StreamPump } from './pump';

type Call = ServerDuplexStream<extProc.ProcessingRequest, extProc.ProcessingResponse>;

/**
 * grpc-js exposes no option for Node's `streamResetBurst` / `streamResetRate`, so they are set on
 * the http2 server options grpc-js builds (read when it binds). See DEFAULT_STREAM_RESET_RATE.
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

class GrpcJsCall extends StreamPump {
  private done = false;

  constructor(
    private readonly host: TransportHost,
    private readonly call: Call,
    ext: ExtProcStream,
  ) {
    super(ext);
    call.on('data', (req: extProc.ProcessingRequest) => this.receive(req));
    call.on('end', () => this.halfClose());
    call.on('cancelled', () => {
      host.logger.debug(
        { requestId: ext.info.requestId, processor: ext.name },
        'ext_proc stream cancelled by Envoy',
      );
      this.end('cancelled');
    });
    call.on('error', (err: Error & { code?: number }) => {
      if (err.code === GrpcStatus.CANCELLED) {
        host.logger.debug(
          { requestId: ext.info.requestId, processor: ext.name },
          'ext_proc stream reset',
        );
        this.end('cancelled');
        return;
      }
      host.logger.warn(
        { err, requestId: ext.info.requestId, processor: ext.name },
        'ext_proc stream error',
      );
      this.end('error');
    });
  }

  protected deliver(res: extProc.ProcessingResponse, last: boolean): boolean {
    if (this.done) return true;
    this.call.write(res);
    if (last && this.host.closeAfterLastPhase) {
      this.end('completed');
      this.call.end();
      return true;
    }
    return false;
  }

  protected peerDone(): void {
    if (this.done) return;
    this.end('completed');
    this.call.end();
  }

  protected lastUnanswered(): boolean {
    if (!this.host.closeAfterLastPhase) return false;
    this.peerDone();
    return true;
  }

  private end(outcome: StreamOutcome): void {
    if (this.done) return;
    this.done = true;
    this.host.close(this.ext, outcome);
    this.release();
  }
}

export interface GrpcJsTransportOptions {
  maxConcurrentStreams: number;
  streamResetRate: number;
  credentials: ServerCredentials | undefined;
  grpcOptions: ChannelOptions | undefined;
}

export class GrpcJsTransport {
  readonly grpc: Server;

  constructor(
    private readonly host: TransportHost,
    private readonly opts: GrpcJsTransportOptions,
  ) {
    this.grpc = new Server({
      'grpc.max_concurrent_streams': opts.maxConcurrentStreams,
      ...opts.grpcOptions,
    });
    raiseStreamResetLimit(this.grpc, opts.streamResetRate);
    this.grpc.addService(extProc.ExternalProcessorService, { process: this.handle });
    host.health.register(this.grpc);
  }

  listen(hostname: string, port: number): Promise<number> {
    const creds = this.opts.credentials ?? ServerCredentials.createInsecure();
    return new Promise<number>((resolve, reject) => {
      this.grpc.bindAsync(`${hostname}:${port}`, creds, (err, bound) =>
        err !== null ? reject(err) : resolve(bound),
      );
    });
  }

  /** Graceful (tryShutdown) up to `graceMs`, then forceShutdown. Resolves true when forced. */
  close(graceMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
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
  }

  private readonly handle = (call: Call): void => {
    const sel = call.metadata.get(this.host.selectorKey)[0];
    const md: Record<string, string> = {};
    const map = call.metadata.getMap();
    for (const k in map) {
      const v = map[k];
      if (typeof v === 'string') md[k] = v;
    }
    const opened = this.host.open(sel === undefined ? undefined : String(sel), md);
    if (!(opened instanceof ExtProcStream)) {
      call.emit('error', opened);
      return;
    }
    new GrpcJsCall(this.host, call, opened);
  };
}
