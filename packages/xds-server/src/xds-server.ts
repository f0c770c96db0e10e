import { EventEmitter } from 'node:events';
import type { PeerCertificate } from 'node:tls';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  Server,
  type ChannelOptions,
  type ServerCredentials,
  type ServerDuplexStream,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '@edge/protos/xds';
import { Registry } from 'prom-client';
import type {
  AckEvent,
  NackEvent,
  NodeIdentity,
  PushEvent,
  RefuseEvent,
  StreamKind,
  XdsEvents,
} from './events';
import type { Logger } from './logger';
import { XdsMetrics } from './metrics';
import type { Snapshot } from './snapshot';
import type { SnapshotCache } from './snapshot-cache';
import {
  DeltaStream,
  quoteId,
  SotwStream,
  type Refusal,
  type StreamHost,
  type XdsCall,
  type XdsStream,
} from './stream';
import { TYPE_SHORT, type TypeUrlValue } from './type-url';

const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';

/** grpc-js service definition of the Aggregated Discovery Service, spoken with protobuf-es. */
export const adsServiceDefinition = {
  streamAggregatedResources: {
    path: `${ADS}StreamAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (m: DiscoveryRequest) => Buffer.from(toBinary(DiscoveryRequestSchema, m)),
    requestDeserialize: (b: Buffer) => fromBinary(DiscoveryRequestSchema, b),
    responseSerialize: (m: DiscoveryResponse) => Buffer.from(toBinary(DiscoveryResponseSchema, m)),
    responseDeserialize: (b: Buffer) => fromBinary(DiscoveryResponseSchema, b),
    originalName: 'StreamAggregatedResources',
  },
  deltaAggregatedResources: {
    path: `${ADS}DeltaAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (m: DeltaDiscoveryRequest) =>
      Buffer.from(toBinary(DeltaDiscoveryRequestSchema, m)),
    requestDeserialize: (b: Buffer) => fromBinary(DeltaDiscoveryRequestSchema, b),
    responseSerialize: (m: DeltaDiscoveryResponse) =>
      Buffer.from(toBinary(DeltaDiscoveryResponseSchema, m)),
    responseDeserialize: (b: Buffer) => fromBinary(DeltaDiscoveryResponseSchema, b),
    originalName: 'DeltaAggregatedResources',
  },
} satisfies ServiceDefinition;

/** Who is on the other end of a stream, as `authorizeNode` sees it. */
export interface XdsPeer {
  /** grpc-js peer address (`host:port`). */
  address: string;
  /**
   * The client certificate the TLS handshake verified against the server's CA (Node's
   * `PeerCertificate`: `subject.CN`, `subjectaltname`, `fingerprint256`, ...); undefined without
   * TLS or without a verified client certificate.
   */
  certificate?: PeerCertificate;
}

/**
 * Decides whether a stream's peer may be the node its first request names: `true` serves it;
 * `false` or a string (the reason, sent to the client and logged: no secrets) refuses it.
 */
export type NodeAuthorizer = (node: NodeIdentity, peer: XdsPeer) => boolean | string;

/** A refused stream as kept for `recentRefusals()`. */
export interface RefusalRecord extends RefuseEvent {
  /** ISO time. */
  at: string;
}

export interface XdsServerOptions {
  cache: SnapshotCache;
  logger: Logger;
  /** Prometheus registry for the server's metrics. Default: a private registry. */
  registry?: Registry;
  /** Metric name prefix. Default `xds_`. */
  metricsPrefix?: string;
  /**
   * Called when a node connects and the cache has no snapshot for it: a snapshot returned here
   * is set in the cache (consistency-checked) and served.
   */
  nodeSnapshotFallback?: (node: NodeIdentity) => Snapshot | undefined;
  /** After this long without an ACK, a sent type stops holding back later types. Default 5000 ms. */
  ackTimeoutMs?: number;
  /** grpc-js server options (keepalive, message sizes). */
  grpcOptions?: ChannelOptions;
  /**
   * Checked on a stream's first request, before anything is attached or pushed: a refusal ends
   * the stream with PERMISSION_DENIED (see NodeAuthorizer). Default: every node is served (the
   * node id is then whatever the client claims).
   */
  authorizeNode?: NodeAuthorizer;
}

/** One NACK as recorded for status(). */
export interface NackRecord {
  typeUrl: TypeUrlValue;
  /** The version Envoy rejected. */
  version: string;
  message: string;
  /** ISO time. */
  at: string;
}

/** What `status()` reports per node. */
export interface NodeStatus {
  id: string;
  cluster: string;
  streams: { sotw: number; delta: number };
  /** ISO time the oldest open stream opened; undefined when none is open. */
  connectedSince?: string;
  /** ISO time the last stream closed, when none is open. */
  disconnectedAt?: string;
  /** The version each type last ACKed (over all the node's streams, the latest ACK wins). */
  acked: Partial<Record<TypeUrlValue, string>>;
  /** The versions of the node's snapshot in the cache (undefined: no snapshot). */
  snapshotVersions?: Record<TypeUrlValue, string>;
  lastNack?: NackRecord;
  /** Types with a change not yet sent, or sent and not yet ACKed. */
  pending: TypeUrlValue[];
}

interface NodeRecord {
  id: string;
  cluster: string;
  streams: Set<XdsStream>;
  acked: Partial<Record<TypeUrlValue, string>>;
  lastNack?: NackRecord;
  disconnectedAt?: number;
}

/** Disconnected nodes kept for status(), oldest forgotten first. */
const MAX_GONE_NODES = 10_000;
/** Refusals kept for recentRefusals(), oldest forgotten first. */
const MAX_REFUSALS = 100;

/**
 * An xDS management server: the Aggregated Discovery Service (state of the world and delta) over
 * grpc-js, serving each node the snapshot its id has in the cache. Transport security is the
 * caller's (pass mTLS ServerCredentials). Emits connect/disconnect/push/ack/nack.
 */
export class XdsServer extends EventEmitter<XdsEvents> {
  private readonly cache: SnapshotCache;
  private readonly logger: Logger;
  private readonly metrics: XdsMetrics;
  private readonly nodes = new Map<string, NodeRecord>();
  private readonly streams = new Set<XdsStream>();
  private readonly refusals: RefusalRecord[] = [];
  private readonly host: StreamHost;
  private server?: Server;
  private stopping = false;

  constructor(private readonly opts: XdsServerOptions) {
    super();
    this.cache = opts.cache;
    this.logger = opts.logger;
    this.metrics = new XdsMetrics(opts.registry ?? new Registry(), opts.metricsPrefix);
    this.host = {
      logger: this.logger,
      ackTimeoutMs: opts.ackTimeoutMs ?? 5000,
      now: () => performance.now(),
      attach: (stream, node) => this.attach(stream, node),
      detach: (stream, reason) => this.detach(stream, reason),
      authorize: (stream, node, certificate) => this.authorize(stream, node, certificate),
      refused: (e) => this.onRefused(e),
      pushed: (e) => this.onPushed(e),
      acked: (e) => this.onAcked(e),
      nacked: (e) => this.onNacked(e),
    };
  }

  /** Serves ADS on host:port (port 0: a free one); resolves to the bound port. */
  async bind(host: string, port: number, creds: ServerCredentials): Promise<number> {
    if (this.server) throw new Error('XdsServer is already bound');
    const server = new Server({ ...this.opts.grpcOptions });
    server.addService(adsServiceDefinition, {
      streamAggregatedResources: (call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) =>
        this.handleSotw(call),
      deltaAggregatedResources: (
        call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
      ) => this.handleDelta(call),
    });
    const address =
      host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
    this.stopping = false;
    this.logger.info({ address: `${host}:${bound}` }, 'xds: serving ADS');
    return bound;
  }

  /** Serves one state-of-the-world stream (used by bind; tests pass an in-memory duplex). */
  handleSotw(call: XdsCall<DiscoveryRequest, DiscoveryResponse>): SotwStream {
    const stream = new SotwStream(this.host, call);
    this.opened(stream);
    return stream;
  }

  /** Serves one delta stream (used by bind; tests pass an in-memory duplex). */
  handleDelta(call: XdsCall<DeltaDiscoveryRequest, DeltaDiscoveryResponse>): DeltaStream {
    const stream = new DeltaStream(this.host, call);
    this.opened(stream);
    return stream;
  }

  /** Ends every stream (UNAVAILABLE, so Envoys reconnect elsewhere or later), then the server. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    for (const s of [...this.streams]) s.shutdown('xds server stopping');
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.logger.info({}, 'xds: stopped');
  }

  /** Every node seen (connected, or disconnected and remembered), sorted by id. */
  status(): NodeStatus[] {
    return [...this.nodes.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((n) => this.nodeStatus(n));
  }

  private nodeStatus(n: NodeRecord): NodeStatus {
    const open = [...n.streams];
    const count = (k: StreamKind) => open.filter((s) => s.kind === k).length;
    const pending = new Set(open.flatMap((s) => s.pendingTypes()));
    const oldest = open.length > 0 ? Math.min(...open.map((s) => s.openedAt)) : undefined;
    return {
      id: n.id,
      cluster: n.cluster,
      streams: { sotw: count('sotw'), delta: count('delta') },
      ...(oldest !== undefined ? { connectedSince: isoFromPerf(oldest) } : {}),
      ...(open.length === 0 && n.disconnectedAt !== undefined
        ? { disconnectedAt: isoFromPerf(n.disconnectedAt) }
        : {}),
      acked: Object.assign({ ...n.acked }, ...open.map((s) => s.ackedVersions())) as Partial<
        Record<TypeUrlValue, string>
      >,
      ...(this.cache.getVersions(n.id) ? { snapshotVersions: this.cache.getVersions(n.id) } : {}),
      ...(n.lastNack ? { lastNack: { ...n.lastNack } } : {}),
      pending: [...pending],
    };
  }

  /** The last refused streams (at most 100), oldest first. */
  recentRefusals(): RefusalRecord[] {
    return this.refusals.map((r) => ({ ...r, node: { ...r.node } }));
  }

  private opened(stream: XdsStream): void {
    if (this.stopping) {
      stream.shutdown('xds server stopping');
      return;
    }
    this.streams.add(stream);
    this.metrics.streamOpened(stream.kind);
  }

  private authorize(
    stream: XdsStream,
    node: NodeIdentity,
    certificate: PeerCertificate | undefined,
  ): Refusal | undefined {
    const check = this.opts.authorizeNode;
    if (!check) return undefined;
    let verdict: boolean | string;
    try {
      verdict = check(node, { address: stream.peer, ...(certificate ? { certificate } : {}) });
    } catch (err) {
      this.logger.error(
        { node: node.id, peer: stream.peer, err: err instanceof Error ? err.message : String(err) },
        'xds: authorizeNode threw, the stream is refused',
      );
      return { refusal: 'authorizer_error', message: `node ${quoteId(node.id)} refused` };
    }
    if (verdict === true) return undefined;
    const why = typeof verdict === 'string' && verdict !== '' ? verdict : 'not authorized';
    return { refusal: 'unauthorized', message: `node ${quoteId(node.id)} refused: ${why}` };
  }

  private onRefused(e: RefuseEvent): void {
    this.metrics.refused(e.refusal);
    this.refusals.push({ ...e, at: new Date().toISOString() });
    if (this.refusals.length > MAX_REFUSALS) this.refusals.shift();
    this.logger.warn(
      {
        node: e.node.id.slice(0, 128),
        kind: e.kind,
        peer: e.peer,
        refusal: e.refusal,
        error: e.message,
      },
      'xds: stream refused',
    );
    this.emit('refuse', e);
  }

  private attach(stream: XdsStream, node: NodeIdentity) {
    let rec = this.nodes.get(node.id);
    if (!rec) {
      rec = { id: node.id, cluster: node.cluster, streams: new Set(), acked: {} };
      this.nodes.set(node.id, rec);
    }
    rec.cluster = node.cluster;
    rec.streams.add(stream);
    rec.disconnectedAt = undefined;
    if (!this.cache.prepared(node.id) && this.opts.nodeSnapshotFallback) {
      try {
        const s = this.opts.nodeSnapshotFallback(node);
        if (s) this.cache.setSnapshot(node.id, s);
      } catch (err) {
        this.logger.error(
          { node: node.id, err: err instanceof Error ? err.message : String(err) },
          'xds: the fallback snapshot for a node was rejected',
        );
      }
    }
    const unwatch = this.cache.watch(node.id, (p) => stream.snapshotChanged(p));
    const e = { node, kind: stream.kind, streamId: stream.id, peer: stream.peer };
    this.logger.info(
      { node: node.id, cluster: node.cluster, kind: stream.kind, peer: stream.peer },
      'xds: node connected',
    );
    this.emit('connect', e);
    return { snapshot: this.cache.prepared(node.id), unwatch };
  }

  private detach(stream: XdsStream, reason: string): void {
    if (!this.streams.delete(stream)) return;
    this.metrics.streamClosed(stream.kind);
    const node = stream.node;
    if (!node) return;
    const rec = this.nodes.get(node.id);
    if (rec) {
      rec.streams.delete(stream);
      if (rec.streams.size === 0) {
        rec.disconnectedAt = performance.now();
        this.forgetOldNodes();
      }
    }
    this.logger.info({ node: node.id, kind: stream.kind, reason }, 'xds: node disconnected');
    this.emit('disconnect', {
      node,
      kind: stream.kind,
      streamId: stream.id,
      peer: stream.peer,
      reason,
    });
  }

  private forgetOldNodes(): void {
    const gone = [...this.nodes.values()].filter((n) => n.streams.size === 0);
    if (gone.length <= MAX_GONE_NODES) return;
    gone.sort((a, b) => (a.disconnectedAt ?? 0) - (b.disconnectedAt ?? 0));
    for (const n of gone.slice(0, gone.length - MAX_GONE_NODES)) this.nodes.delete(n.id);
  }

  private onPushed(e: PushEvent): void {
    this.metrics.pushed(e);
    this.logger.debug(
      {
        node: e.node.id,
        type: TYPE_SHORT[e.typeUrl],
        version: e.version,
        nonce: e.nonce,
        resources: e.resources,
        removed: e.removed,
      },
      'xds: pushed',
    );
    this.emit('push', e);
  }

  private onAcked(e: AckEvent): void {
    this.metrics.acked(e);
    const rec = this.nodes.get(e.node.id);
    if (rec) rec.acked[e.typeUrl] = e.version;
    this.logger.debug(
      { node: e.node.id, type: TYPE_SHORT[e.typeUrl], version: e.version, latencyMs: e.latencyMs },
      'xds: ACK',
    );
    this.emit('ack', e);
  }

  private onNacked(e: NackEvent): void {
    this.metrics.nacked(e);
    const rec = this.nodes.get(e.node.id);
    if (rec) {
      rec.lastNack = {
        typeUrl: e.typeUrl,
        version: e.version,
        message: e.message,
        at: new Date().toISOString(),
      };
    }
    this.logger.warn(
      { node: e.node.id, type: TYPE_SHORT[e.typeUrl], version: e.version, error: e.message },
      'xds: NACK, the node stays on its last good version',
    );
    this.emit('nack', e);
  }
}

function isoFromPerf(t: number): string {
  return new Date(performance.timeOrigin + t).toISOString();
}
