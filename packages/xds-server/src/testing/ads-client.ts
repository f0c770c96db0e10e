import { EventEmitter } from 'node:events';
import { create } from '@bufbuild/protobuf';
import {
  credentials,
  makeGenericClientConstructor,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientDuplexStream,
} from '@grpc/grpc-js';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '@edge/protos/xds';
import { adsServiceDefinition } from '../xds-server';

export interface AdsTestClientOptions {
  /** host:port of the server. */
  address: string;
  nodeId: string;
  cluster?: string;
  /** Delta (DeltaAggregatedResources) instead of state of the world. */
  delta?: boolean;
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
  /** Return an error message to NACK a response instead of ACKing it. */
  reject?: (typeUrl: string, version: string) => string | undefined;
}

export interface ClientResponse {
  typeUrl: string;
  version: string;
  nonce: string;
  resources: string[];
  removed: string[];
  /** When it arrived (performance.now()). */
  at: number;
}

interface Sub {
  names: string[];
  /** SotW: the last ACKed version_info. */
  version: string;
}

const AdsClient = makeGenericClientConstructor(adsServiceDefinition, 'AggregatedDiscoveryService');

/**
 * A simulated Envoy for tests and benchmarks: one ADS stream (SotW or delta) that subscribes
 * to the given types and ACKs (or NACKs, see `reject`) every response, like Envoy does.
 * Emits `response` (ClientResponse) and `end` (error or undefined).
 */
export class AdsTestClient extends EventEmitter<{
  response: [ClientResponse];
  end: [Error | undefined];
}> {
  private readonly client: InstanceType<typeof AdsClient>;
  private sotw?: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  private deltaCall?: ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
  private readonly subs = new Map<string, Sub>();
  private first = true;
  /** Per type: resource name → version (delta), or the names of the last response (SotW). */
  readonly resources = new Map<string, Map<string, string>>();
  readonly responses: ClientResponse[] = [];
  ended = false;

  constructor(private readonly opts: AdsTestClientOptions) {
    super();
    this.client = new AdsClient(
      opts.address,
      opts.credentials ?? credentials.createInsecure(),
      opts.channelOptions,
    );
  }

  /** Opens the stream and subscribes (names empty: wildcard). */
  start(subscriptions: { typeUrl: string; names?: string[] }[]): this {
    if (this.opts.delta) {
      const call = this.client.makeBidiStreamRequest<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(
        adsServiceDefinition.deltaAggregatedResources.path,
        adsServiceDefinition.deltaAggregatedResources.requestSerialize,
        adsServiceDefinition.deltaAggregatedResources.responseDeserialize,
      );
      this.deltaCall = call;
      call.on('data', (res: DeltaDiscoveryResponse) => this.onDelta(res));
      this.watchEnd(call);
    } else {
      const call = this.client.makeBidiStreamRequest<DiscoveryRequest, DiscoveryResponse>(
        adsServiceDefinition.streamAggregatedResources.path,
        adsServiceDefinition.streamAggregatedResources.requestSerialize,
        adsServiceDefinition.streamAggregatedResources.responseDeserialize,
      );
      this.sotw = call;
      call.on('data', (res: DiscoveryResponse) => this.onSotw(res));
      this.watchEnd(call);
    }
    for (const s of subscriptions) this.subscribe(s.typeUrl, s.names ?? []);
    return this;
  }

  /** Subscribes (SotW: replaces the type's names; delta: adds them, `*` for wildcard). */
  subscribe(typeUrl: string, names: string[]): void {
    const sub = this.subs.get(typeUrl);
    this.subs.set(typeUrl, { names, version: sub?.version ?? '' });
    if (this.deltaCall) {
      this.deltaCall.write(
        create(DeltaDiscoveryRequestSchema, {
          ...this.node(),
          typeUrl,
          resourceNamesSubscribe: names,
        }),
      );
    } else {
      this.sotw?.write(
        create(DiscoveryRequestSchema, {
          ...this.node(),
          typeUrl,
          versionInfo: sub?.version ?? '',
          resourceNames: names,
        }),
      );
    }
  }

  /** Resolves with the first response (from now on, or already received) matching `pred`. */
  waitFor(pred: (r: ClientResponse) => boolean, timeoutMs = 10_000): Promise<ClientResponse> {
    const seen = this.responses.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('response', on);
        reject(new Error(`no matching xDS response within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (r: ClientResponse) => {
        if (!pred(r)) return;
        clearTimeout(timer);
        this.off('response', on);
        resolve(r);
      };
      this.on('response', on);
    });
  }

  close(): void {
    this.sotw?.cancel();
    this.deltaCall?.cancel();
    this.client.close();
  }

  private node() {
    if (!this.first) return {};
    this.first = false;
    return { node: { id: this.opts.nodeId, cluster: this.opts.cluster ?? 'test' } };
  }

  private record(r: ClientResponse): void {
    this.responses.push(r);
    this.emit('response', r);
  }

  private onSotw(res: DiscoveryResponse): void {
    const sub = this.subs.get(res.typeUrl) ?? { names: [], version: '' };
    const error = this.opts.reject?.(res.typeUrl, res.versionInfo);
    if (!error) {
      sub.version = res.versionInfo;
      this.resources.set(
        res.typeUrl,
        new Map<string, string>(res.resources.map((_, i) => [String(i), res.versionInfo])),
      );
    }
    this.subs.set(res.typeUrl, sub);
    this.sotw?.write(
      create(DiscoveryRequestSchema, {
        typeUrl: res.typeUrl,
        versionInfo: sub.version,
        responseNonce: res.nonce,
        resourceNames: sub.names,
        ...(error ? { errorDetail: { code: 3, message: error } } : {}),
      }),
    );
    this.record({
      typeUrl: res.typeUrl,
      version: res.versionInfo,
      nonce: res.nonce,
      resources: res.resources.map((_, i) => String(i)),
      removed: [],
      at: performance.now(),
    });
  }

  private onDelta(res: DeltaDiscoveryResponse): void {
    const error = this.opts.reject?.(res.typeUrl, res.systemVersionInfo);
    if (!error) {
      let known = this.resources.get(res.typeUrl);
      if (!known) this.resources.set(res.typeUrl, (known = new Map<string, string>()));
      for (const r of res.resources) known.set(r.name, r.version);
      for (const n of res.removedResources) known.delete(n);
    }
    this.deltaCall?.write(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: res.typeUrl,
        responseNonce: res.nonce,
        ...(error ? { errorDetail: { code: 3, message: error } } : {}),
      }),
    );
    this.record({
      typeUrl: res.typeUrl,
      version: res.systemVersionInfo,
      nonce: res.nonce,
      resources: res.resources.map((r) => r.name),
      removed: res.removedResources,
      at: performance.now(),
    });
  }

  private watchEnd(call: EventEmitter): void {
    let done = false;
    const end = (err?: Error) => {
      if (done) return;
      done = true;
      this.ended = true;
      this.emit('end', err);
    };
    call.on('error', (err: Error) => end(err));
    call.on('end', () => end(undefined));
  }
}
