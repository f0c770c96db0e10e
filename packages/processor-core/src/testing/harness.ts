import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { extProc, type envoyCore } from '@edge/protos';
import { silentLogger } from '../logger';
import { asComposition, type AnyProcessor, type Composition } from '../processor';
import { DEFAULT_SELECTOR_KEY } from '../server';
import {
  createStreamRuntime,
  ExtProcStream,
  type StreamOutcome,
  type StreamRuntimeOptions,
} from '../stream';
import { StreamPump } from '../transport/pump';
import { toPhaseResult, type PhaseResult } from './results';

export type HeaderInput =
  Record<string, string | readonly string[]> | readonly (readonly [string, string])[];

export interface MessageOptions {
  /** Attributes as Envoy sends them for `request_attributes`, e.g. `{ 'source.address': '10.0.0.1:5000' }`. */
  attributes?: Record<string, unknown>;
  /** Forwarded metadata namespaces: `{ 'edge.route': { scopes: ['keys:read'] } }`. */
  metadataContext?: Record<string, Record<string, unknown>>;
  endOfStream?: boolean;
  /** Mark the message as sent by a filter in observability mode (no response expected). */
  observabilityMode?: boolean;
}

/** The server's per-stream options (same defaults, except the logger: silent here). */
export interface HarnessOptions extends StreamRuntimeOptions {
  /** How header values are encoded: `raw` (raw_value, as Envoy >= 1.34) or `value`. Default raw. */
  encoding?: 'raw' | 'value';
  /** gRPC initial metadata the processor should see (`ctx.grpcMetadata`). */
  grpcMetadata?: Record<string, string>;
}

/** Plays Envoy's side of one ext_proc stream. */
export interface StreamDriverApi {
  requestHeaders(headers: HeaderInput, opts?: MessageOptions): Promise<PhaseResult>;
  requestBody(body: string | Buffer | object, opts?: MessageOptions): Promise<PhaseResult>;
  requestTrailers(trailers: HeaderInput, opts?: MessageOptions): Promise<PhaseResult>;
  responseHeaders(headers: HeaderInput, opts?: MessageOptions): Promise<PhaseResult>;
  responseBody(body: string | Buffer | object, opts?: MessageOptions): Promise<PhaseResult>;
  responseTrailers(trailers: HeaderInput, opts?: MessageOptions): Promise<PhaseResult>;
  /** Send any raw ProcessingRequest. */
  send(req: extProc.ProcessingRequest): Promise<PhaseResult>;
}

export function toHeaderMap(
  input: HeaderInput,
  encoding: 'raw' | 'value' = 'raw',
): envoyCore.HeaderMap {
  const pairs: (readonly [string, string])[] = [];
  if (Array.isArray(input)) pairs.push(...(input as readonly (readonly [string, string])[]));
  else {
    for (const [k, v] of Object.entries(input as Record<string, string | readonly string[]>)) {
      if (typeof v === 'string') pairs.push([k, v]);
      else for (const one of v) pairs.push([k, one]);
    }
  }
  return {
    headers: pairs.map(([key, value]) =>
      encoding === 'raw'
        ? { key: key.toLowerCase(), value: '', rawValue: Buffer.from(value, 'utf8') }
        : { key: key.toLowerCase(), value, rawValue: Buffer.alloc(0) },
    ),
  };
}

function bodyBuffer(body: string | Buffer | object): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}

function envelope(
  request: extProc.ProcessingRequest['request'],
  opts: MessageOptions | undefined,
): extProc.ProcessingRequest {
  return {
    request,
    metadataContext:
      opts?.metadataContext !== undefined
        ? { filterMetadata: opts.metadataContext, typedFilterMetadata: {} }
        : undefined,
    attributes:
      opts?.attributes !== undefined ? { 'envoy.filters.http.ext_proc': opts.attributes } : {},
    observabilityMode: opts?.observabilityMode ?? false,
  };
}

abstract class DriverBase implements StreamDriverApi {
  protected abstract readonly encoding: 'raw' | 'value';
  abstract send(req: extProc.ProcessingRequest): Promise<PhaseResult>;

  requestHeaders(headers: HeaderInput, opts?: MessageOptions): Promise<PhaseResult> {
    const value = {
      headers: toHeaderMap(headers, this.encoding),
      attributes: {},
      endOfStream: opts?.endOfStream ?? false,
    };
    return this.send(envelope({ $case: 'requestHeaders', value }, opts));
  }
  responseHeaders(headers: HeaderInput, opts?: MessageOptions): Promise<PhaseResult> {
    const value = {
      headers: toHeaderMap(headers, this.encoding),
      attributes: {},
      endOfStream: opts?.endOfStream ?? false,
    };
    return this.send(envelope({ $case: 'responseHeaders', value }, opts));
  }
  requestBody(body: string | Buffer | object, opts?: MessageOptions): Promise<PhaseResult> {
    const value = { body: bodyBuffer(body), endOfStream: opts?.endOfStream ?? true };
    return this.send(envelope({ $case: 'requestBody', value }, opts));
  }
  responseBody(body: string | Buffer | object, opts?: MessageOptions): Promise<PhaseResult> {
    const value = { body: bodyBuffer(body), endOfStream: opts?.endOfStream ?? true };
    return this.send(envelope({ $case: 'responseBody', value }, opts));
  }
  requestTrailers(trailers: HeaderInput, opts?: MessageOptions): Promise<PhaseResult> {
    return this.send(
      envelope(
        { $case: 'requestTrailers', value: { trailers: toHeaderMap(trailers, this.encoding) } },
        opts,
      ),
    );
  }
  responseTrailers(trailers: HeaderInput, opts?: MessageOptions): Promise<PhaseResult> {
    return this.send(
      envelope(
        { $case: 'responseTrailers', value: { trailers: toHeaderMap(trailers, this.encoding) } },
        opts,
      ),
    );
  }
}

/** The server's message loop, answering into the harness's waiters through the wire format. */
class HarnessPump extends StreamPump {
  readonly waiters: ((r: PhaseResult) => void)[] = [];
  /** True once the server would end the gRPC stream (last expected phase answered). */
  closed = false;

  protected deliver(res: extProc.ProcessingResponse, last: boolean): boolean {
    const wire = extProc.ProcessingResponse.decode(extProc.ProcessingResponse.encode(res).finish());
    if (last) this.closed = true;
    this.waiters.shift()?.(toPhaseResult(wire));
    // Unlike the server, keep answering: a test may go on after the last expected phase.
    return false;
  }

  protected peerDone(): void {}

  protected lastUnanswered(): boolean {
    this.closed = true;
    return false;
  }
}

const NO_ANSWER = toPhaseResult({
  response: undefined,
  dynamicMetadata: undefined,
  modeOverride: undefined,
  overrideMessageTimeout: undefined,
});

/**
 * In-process harness: runs the processor (or chain) exactly as the server does (the same
 * runtime defaults and message loop), with every message and response round-tripped through
 * the protobuf wire format.
 *
 * ```ts
 * const h = createHarness(new Authn());
 * const r = await h.requestHeaders({ ':method': 'GET', ':path': '/x' });
 * expect(r.immediate?.status).toBe(401);
 * ```
 */
export class Harness extends DriverBase {
  protected readonly encoding: 'raw' | 'value';
  readonly stream: ExtProcStream;
  private readonly pump: HarnessPump;

  constructor(processor: AnyProcessor | Composition, opts: HarnessOptions = {}) {
    super();
    this.encoding = opts.encoding ?? 'raw';
    this.stream = new ExtProcStream(
      asComposition(processor),
      createStreamRuntime(opts, silentLogger),
      opts.grpcMetadata,
    );
    this.pump = new HarnessPump(this.stream);
  }

  /** True once the server side would end the gRPC stream (last expected phase answered). */
  get serverClosed(): boolean {
    return this.pump.closed;
  }

  send(req: extProc.ProcessingRequest): Promise<PhaseResult> {
    const wire = extProc.ProcessingRequest.decode(extProc.ProcessingRequest.encode(req).finish());
    return new Promise<PhaseResult>((resolve) => {
      // No answer is due in observability mode (or for a message without a request).
      if (wire.observabilityMode || wire.request === undefined) {
        this.pump.receive(wire);
        resolve(NO_ANSWER);
        return;
      }
      this.pump.waiters.push(resolve);
      this.pump.receive(wire);
    });
  }

  /** What the processors saw of the stream (method, path, attributes, ...). */
  get info(): ExtProcStream['info'] {
    return this.stream.info;
  }

  /** The state bag of the processor at `index` in the chain (0 for a single processor). */
  state<T = Record<string, unknown>>(index = 0): T {
    const ctx = this.stream.context(index);
    if (ctx === undefined) throw new Error(`no processor at index ${index}`);
    return ctx.state as T;
  }

  /** End the stream as Envoy would (default: completed). Runs every `onStreamEnd`. */
  end(outcome: StreamOutcome = 'completed'): void {
    this.stream.end(outcome);
  }
}

export function createHarness(
  processor: AnyProcessor | Composition,
  opts?: HarnessOptions,
): Harness {
  return new Harness(processor, opts);
}

export interface GrpcHarnessOptions {
  /** `host:port` of a running ext_proc server. */
  address: string;
  /** Sent as `x-ext-proc-processor` metadata to pick a processor on a multi-processor server. */
  processor?: string;
  encoding?: 'raw' | 'value';
  metadata?: Record<string, string>;
}

/**
 * The same driver over a real gRPC connection (one ext_proc stream per instance): for tests of
 * a running server. `closed` resolves with the final gRPC status code.
 */
export class GrpcHarness extends DriverBase {
  protected readonly encoding: 'raw' | 'value';
  private readonly client: extProc.ExternalProcessorClient;
  private readonly call: ClientDuplexStream<extProc.ProcessingRequest, extProc.ProcessingResponse>;
  private readonly waiters: { resolve: (r: PhaseResult) => void; reject: (e: Error) => void }[] =
    [];
  readonly closed: Promise<{ code: number; details: string }>;

  constructor(opts: GrpcHarnessOptions) {
    super();
    this.encoding = opts.encoding ?? 'raw';
    this.client = new extProc.ExternalProcessorClient(opts.address, credentials.createInsecure());
    const md = new Metadata();
    if (opts.processor !== undefined) md.set(DEFAULT_SELECTOR_KEY, opts.processor);
    for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
    this.call = this.client.process(md);
    this.call.on('data', (res: extProc.ProcessingResponse) =>
      this.waiters.shift()?.resolve(toPhaseResult(res)),
    );
    this.closed = new Promise((resolve) => {
      this.call.on('status', (s: { code: number; details: string }) => {
        for (const w of this.waiters.splice(0))
          w.reject(new Error(`stream closed: ${s.code} ${s.details}`));
        resolve({ code: s.code, details: s.details });
      });
      this.call.on('error', (_e: ServiceError) => undefined);
    });
  }

  send(req: extProc.ProcessingRequest): Promise<PhaseResult> {
    // No answer is due in observability mode (as Envoy: it does not wait for one).
    if (req.observabilityMode) {
      this.call.write(req);
      return Promise.resolve(NO_ANSWER);
    }
    return new Promise<PhaseResult>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.call.write(req);
    });
  }

  /** Half-close like Envoy at the end of a request, wait for the final status, close the channel. */
  async end(): Promise<{ code: number; details: string }> {
    this.call.end();
    const s = await this.closed;
    this.client.close();
    return s;
  }

  /** Reset the stream like Envoy does on a client disconnect or timeout. */
  async cancel(): Promise<void> {
    this.call.cancel();
    await this.closed;
    this.client.close();
  }
}

export function connectHarness(opts: GrpcHarnessOptions): GrpcHarness {
  return new GrpcHarness(opts);
}
