import type { PeerCertificate } from 'node:tls';
import { create } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  ResourceSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '@edge/protos/xds';
import type { PreparedSnapshot } from './consistency';
import type {
  AckEvent,
  NackEvent,
  NodeIdentity,
  PushEvent,
  RefusalKind,
  RefuseEvent,
  StreamKind,
} from './events';
import type { Logger } from './logger';
import {
  isTypeUrl,
  isWildcardType,
  PUSH_ORDER,
  TYPE_SHORT,
  REMOVAL_WAITS_FOR,
  WAITS_FOR,
  type TypeUrlValue,
} from './type-url';
import { typeVersion, type EncodedResource } from './encode';

/** The part of a gRPC bidi call a stream uses (grpc-js ServerDuplexStream fits; tests pass a Duplex). */
export interface XdsCall<Req, Res> {
  on(event: 'data', listener: (req: Req) => void): unknown;
  on(event: 'end' | 'close' | 'cancelled', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  write(res: Res): boolean;
  end(): void;
  emit(event: 'error', err: { code: number; details: string }): boolean;
  getPeer(): string;
  /** grpc-js ≥ 1.14: the verified TLS client certificate (`sslPeerCertificate`), if any. */
  getAuthContext?(): { sslPeerCertificate?: PeerCertificate } | null;
}

/** Why `StreamHost.authorize` refused a node. */
export interface Refusal {
  refusal: RefusalKind;
  message: string;
}

/** What a stream needs from its server: the snapshot source, the clock and the outlets. */
export interface StreamHost {
  logger: Logger;
  /** After this long without an ACK, a sent type no longer holds back the types after it. */
  ackTimeoutMs: number;
  now(): number;
  /** Called once the node is known: the node's snapshot (or undefined) and a watch on it. */
  attach(
    stream: XdsStream,
    node: NodeIdentity,
  ): {
    snapshot: PreparedSnapshot | undefined;
    unwatch: () => void;
  };
  detach(stream: XdsStream, reason: string): void;
  /** Whether this stream's peer may be `node` (before anything is attached or pushed). */
  authorize(
    stream: XdsStream,
    node: NodeIdentity,
    certificate: PeerCertificate | undefined,
  ): Refusal | undefined;
  /** The stream is refused (it then ends with the event's message). */
  refused(e: RefuseEvent): void;
  pushed(e: PushEvent): void;
  acked(e: AckEvent): void;
  nacked(e: NackEvent): void;
}

interface TypeState {
  wildcard: boolean;
  names: Set<string>;
  /** The nonce of the last response of this type; only a request carrying it ACKs/NACKs. */
  nonce?: string;
  sentVersion?: string;
  sentAt: number;
  /** A response of this type is waiting for its ACK/NACK. */
  outstanding: boolean;
  ackedVersion?: string;
  // state of the world: the subscription the last response answered, and what it carried
  sentSubscription?: string;
  sent: Map<string, EncodedResource>;
  /** Resources kept on the client past their removal until what points at them is updated. */
  deferredRemoval: boolean;
  // delta: what the client has (name → version), names told missing, first response owed
  known: Map<string, string>;
  toldMissing: Set<string>;
  mustRespond: boolean;
}

const INVALID_ARGUMENT = 3;
const PERMISSION_DENIED = 7;
const UNAVAILABLE = 14;

let streamCounter = 0;

/**
 * One ADS stream: per type its subscription, nonce and versions. Snapshot changes and requests
 * mark types dirty; `pump` sends them in PUSH_ORDER, holding a type back while a type it points
 * at (WAITS_FOR) still waits for its ACK (bounded by `ackTimeoutMs`). Per-message state is in locals; the
 * per-stream state (what the client has, what is owed) lives here for the stream's lifetime.
 */
export abstract class XdsStream {
  readonly id = ++streamCounter;
  abstract readonly kind: StreamKind;
  node?: NodeIdentity;
  readonly peer: string;
  readonly openedAt: number;
  protected readonly types = new Map<TypeUrlValue, TypeState>();
  private readonly dirty = new Set<TypeUrlValue>();
  private snapshot?: PreparedSnapshot;
  private unwatch?: () => void;
  private closed = false;
  private nonceCounter = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    protected readonly host: StreamHost,
    private readonly call: XdsCall<unknown, unknown>,
  ) {
    this.peer = safePeer(call);
    this.openedAt = host.now();
    call.on('end', () => this.close('client ended the stream', true));
    call.on('cancelled', () => this.close('client cancelled'));
    call.on('close', () => this.close('stream closed'));
    call.on('error', (err: Error) => this.close(`stream error: ${err.message}`));
  }

  /** Types with a change not yet sent or sent and not yet ACKed. */
  pendingTypes(): TypeUrlValue[] {
    return PUSH_ORDER.filter((t) => this.dirty.has(t) || this.types.get(t)?.outstanding === true);
  }

  /** The version each type last ACKed on this stream. */
  ackedVersions(): Partial<Record<TypeUrlValue, string>> {
    const out: Partial<Record<TypeUrlValue, string>> = {};
    for (const [t, st] of this.types) if (st.ackedVersion !== undefined) out[t] = st.ackedVersion;
    return out;
  }

  /** The server is stopping (or the node went away): end the stream with UNAVAILABLE. */
  shutdown(reason: string): void {
    if (this.closed) return;
    this.fail(UNAVAILABLE, reason);
  }

  /** A new snapshot for this node: every subscribed type is re-evaluated. */
  snapshotChanged(s: PreparedSnapshot): void {
    this.snapshot = s;
    for (const t of this.types.keys()) this.dirty.add(t);
    this.pump();
  }

  protected currentSnapshot(): PreparedSnapshot | undefined {
    return this.snapshot;
  }

  protected handleNode(node: { id: string; cluster: string } | undefined): boolean {
    if (this.closed) return false;
    if (this.node) {
      // Envoy repeats its node on every request (unless set_node_on_first_message_only): the
      // same id, or none. Another id on an authorized stream is a client trying to switch nodes.
      if (node && node.id !== '' && node.id !== this.node.id) {
        this.refuse(
          { id: node.id, cluster: node.cluster },
          'node_changed',
          PERMISSION_DENIED,
          `node.id changed on the stream from ${quoteId(this.node.id)} to ${quoteId(node.id)}`,
        );
        return false;
      }
      return true;
    }
    if (!node || node.id === '') {
      this.refuse(
        { id: '', cluster: node?.cluster ?? '' },
        'no_node_id',
        INVALID_ARGUMENT,
        'the first request of a stream must carry node.id',
      );
      return false;
    }
    const claimed = { id: node.id, cluster: node.cluster };
    const denied = this.host.authorize(this, claimed, this.peerCertificate());
    if (denied) {
      this.refuse(claimed, denied.refusal, PERMISSION_DENIED, denied.message);
      return false;
    }
    this.node = claimed;
    const { snapshot, unwatch } = this.host.attach(this, this.node);
    this.snapshot = snapshot;
    this.unwatch = unwatch;
    return true;
  }

  protected typeOf(typeUrl: string): TypeUrlValue | undefined {
    if (isTypeUrl(typeUrl)) return typeUrl;
    this.host.logger.warn(
      { node: this.node?.id, stream: this.id, typeUrl },
      'xds: request for a type this server does not serve, ignored',
    );
    return undefined;
  }

  protected state(t: TypeUrlValue): { st: TypeState; first: boolean } {
    const existing = this.types.get(t);
    if (existing) return { st: existing, first: false };
    const st: TypeState = {
      wildcard: false,
      names: new Set(),
      sentAt: 0,
      outstanding: false,
      known: new Map(),
      toldMissing: new Set(),
      mustRespond: false,
      sent: new Map(),
      deferredRemoval: false,
    };
    this.types.set(t, st);
    return { st, first: true };
  }

  /** An ACK or NACK of the last response of type `t` (the caller checked the nonce). */
  protected settle(
    t: TypeUrlValue,
    st: TypeState,
    version: string,
    error: string | undefined,
  ): void {
    if (!this.node || st.nonce === undefined) return;
    st.outstanding = false;
    const base = {
      node: this.node,
      kind: this.kind,
      streamId: this.id,
      typeUrl: t,
      nonce: st.nonce,
      latencyMs: this.host.now() - st.sentAt,
    };
    if (error !== undefined) {
      // The node stays on its last good version; nothing is re-sent until the snapshot changes.
      this.host.nacked({ ...base, version: st.sentVersion ?? '', message: error });
    } else {
      st.ackedVersion = version;
      this.host.acked({ ...base, version });
    }
  }

  protected markDirty(t: TypeUrlValue): void {
    this.dirty.add(t);
    this.pump();
  }

  protected nextNonce(): string {
    return `${this.id}-${++this.nonceCounter}`;
  }

  protected write(
    t: TypeUrlValue,
    st: TypeState,
    res: DiscoveryResponse | DeltaDiscoveryResponse,
    version: string,
    nonce: string,
    resources: number,
    removed: number,
  ): void {
    st.nonce = nonce;
    st.sentVersion = version;
    st.sentAt = this.host.now();
    st.outstanding = true;
    this.call.write(res);
    if (this.node) {
      this.host.pushed({
        node: this.node,
        kind: this.kind,
        streamId: this.id,
        typeUrl: t,
        version,
        nonce,
        resources,
        removed,
      });
    }
  }

  /** Builds and sends the response of type `t` if one is owed; returns whether it sent one. */
  protected abstract respond(t: TypeUrlValue, st: TypeState, snapshot: PreparedSnapshot): boolean;

  /** Whether removals of type `t` must wait (what may point at its resources is not settled). */
  protected holdRemovals(t: TypeUrlValue): boolean {
    const now = this.host.now();
    return REMOVAL_WAITS_FOR[t].some((u) => {
      const st = this.types.get(u);
      return (
        this.dirty.has(u) || (st?.outstanding === true && now - st.sentAt < this.host.ackTimeoutMs)
      );
    });
  }

  private pump(): void {
    if (this.closed || !this.snapshot) return;
    const now = this.host.now();
    let blockedUntil: number | undefined;
    const hold = (sentAt: number) => {
      const until = sentAt + this.host.ackTimeoutMs;
      blockedUntil = blockedUntil === undefined ? until : Math.min(blockedUntil, until);
    };
    for (let pass = 0; pass < 3; pass++) {
      for (const t of PUSH_ORDER) {
        if (!this.dirty.has(t)) continue;
        const blocker = WAITS_FOR[t]
          .map((u) => this.types.get(u))
          .find((u) => u?.outstanding === true && now - u.sentAt < this.host.ackTimeoutMs);
        if (blocker) {
          hold(blocker.sentAt);
          continue;
        }
        this.dirty.delete(t);
        const st = this.types.get(t);
        if (st) this.respond(t, st, this.snapshot);
      }
      // Deferred removals whose referrers have settled go out now.
      let again = false;
      for (const [t, st] of this.types) {
        if (!st.deferredRemoval || this.dirty.has(t)) continue;
        if (this.holdRemovals(t)) {
          for (const u of REMOVAL_WAITS_FOR[t]) {
            const us = this.types.get(u);
            if (us?.outstanding) hold(us.sentAt);
          }
          continue;
        }
        this.dirty.add(t);
        again = true;
      }
      if (!again) break;
    }
    if (blockedUntil !== undefined && !this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.pump();
        },
        Math.max(1, blockedUntil - now),
      );
      this.timer.unref();
    }
  }

  private peerCertificate(): PeerCertificate | undefined {
    try {
      return this.call.getAuthContext?.()?.sslPeerCertificate;
    } catch {
      return undefined;
    }
  }

  private refuse(node: NodeIdentity, refusal: RefusalKind, code: number, message: string): void {
    this.host.refused({
      node,
      kind: this.kind,
      streamId: this.id,
      peer: this.peer,
      refusal,
      message,
    });
    this.fail(code, message);
  }

  private fail(code: number, details: string): void {
    try {
      this.call.emit('error', { code, details });
    } catch (err) {
      this.host.logger.warn({ stream: this.id, err: String(err) }, 'xds: could not end the stream');
    }
    this.close(details);
  }

  private close(reason: string, endCall = false): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.unwatch?.();
    if (endCall) {
      try {
        this.call.end();
      } catch {
        // already ended
      }
    }
    this.host.detach(this, reason);
  }
}

/** State of the world: each response carries every subscribed resource of its type. */
export class SotwStream extends XdsStream {
  readonly kind = 'sotw' as const;

  constructor(host: StreamHost, call: XdsCall<DiscoveryRequest, DiscoveryResponse>) {
    super(host, call);
    call.on('data', (req: DiscoveryRequest) => this.onRequest(req));
  }

  onRequest(req: DiscoveryRequest): void {
    if (!this.handleNode(req.node)) return;
    const t = this.typeOf(req.typeUrl);
    if (!t) return;
    const { st, first } = this.state(t);
    if (req.responseNonce !== '') {
      if (req.responseNonce !== st.nonce) {
        this.host.logger.debug(
          { node: this.node?.id, stream: this.id, type: TYPE_SHORT[t], nonce: req.responseNonce },
          'xds: stale nonce, request ignored',
        );
        return;
      }
      this.settle(
        t,
        st,
        req.versionInfo,
        req.errorDetail ? req.errorDetail.message || 'rejected' : undefined,
      );
    }
    const names = new Set(req.resourceNames);
    st.wildcard = names.delete('*') || (names.size === 0 && isWildcardType(t));
    st.names = names;
    if (first && req.responseNonce === '' && req.versionInfo !== '') {
      // A reconnecting client already has this version: nothing is owed until it changes.
      if (this.snapshotVersion(t) === req.versionInfo) {
        st.sentVersion = req.versionInfo;
        st.ackedVersion = req.versionInfo;
        st.sentSubscription = subscriptionKey(st);
      }
    }
    this.markDirty(t);
  }

  private snapshotVersion(t: TypeUrlValue): string | undefined {
    return this.currentSnapshot()?.types.get(t)?.version;
  }

  protected respond(t: TypeUrlValue, st: TypeState, snapshot: PreparedSnapshot): boolean {
    const pt = snapshot.types.get(t);
    if (!pt) return false;
    if (!st.wildcard && st.names.size === 0) return false;
    const key = subscriptionKey(st);
    let chosen = st.wildcard
      ? [...pt.resources.values()]
      : [...st.names].flatMap((n) => {
          const r = pt.resources.get(n);
          return r ? [r] : [];
        });
    // Make before break: what the client has and the snapshot dropped stays until what may point
    // at it has been updated.
    const kept = st.wildcard ? [...st.sent.values()].filter((r) => !pt.resources.has(r.name)) : [];
    st.deferredRemoval = kept.length > 0 && this.holdRemovals(t);
    if (st.deferredRemoval) chosen = [...chosen, ...kept];
    const version = st.deferredRemoval ? `${typeVersion(chosen)}-interim` : pt.version;
    if (st.sentVersion === version && st.sentSubscription === key) return false;
    const nonce = this.nextNonce();
    const res = create(DiscoveryResponseSchema, {
      versionInfo: version,
      typeUrl: t,
      nonce,
      resources: chosen.map((r) => create(AnySchema, { typeUrl: t, value: r.bytes })),
    });
    st.sent = new Map(chosen.map((r) => [r.name, r]));
    st.sentSubscription = key;
    this.write(t, st, res, version, nonce, chosen.length, 0);
    return true;
  }
}

/** Incremental (delta): responses carry changed resources and the names removed. */
export class DeltaStream extends XdsStream {
  readonly kind = 'delta' as const;

  constructor(host: StreamHost, call: XdsCall<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) {
    super(host, call);
    call.on('data', (req: DeltaDiscoveryRequest) => this.onRequest(req));
  }

  onRequest(req: DeltaDiscoveryRequest): void {
    if (!this.handleNode(req.node)) return;
    const t = this.typeOf(req.typeUrl);
    if (!t) return;
    const { st, first } = this.state(t);
    if (req.responseNonce !== '') {
      if (req.responseNonce === st.nonce) {
        this.settle(
          t,
          st,
          st.sentVersion ?? '',
          req.errorDetail ? req.errorDetail.message || 'rejected' : undefined,
        );
      } else {
        // Stale: no ACK/NACK, but a delta request's subscription changes always count.
        this.host.logger.debug(
          { node: this.node?.id, stream: this.id, type: TYPE_SHORT[t], nonce: req.responseNonce },
          'xds: stale nonce',
        );
      }
    }
    if (first) {
      for (const [n, v] of Object.entries(req.initialResourceVersions)) st.known.set(n, v);
      if (req.resourceNamesSubscribe.length === 0 && isWildcardType(t)) st.wildcard = true;
      st.mustRespond = true;
    }
    for (const n of req.resourceNamesUnsubscribe) {
      if (n === '*') {
        st.wildcard = false;
        continue;
      }
      st.names.delete(n);
      st.toldMissing.delete(n);
      if (!st.wildcard) st.known.delete(n);
    }
    for (const n of req.resourceNamesSubscribe) {
      if (n === '*') {
        st.wildcard = true;
        continue;
      }
      if (!st.names.has(n) && !(first && n in req.initialResourceVersions)) st.known.delete(n);
      st.names.add(n);
    }
    this.markDirty(t);
  }

  protected respond(t: TypeUrlValue, st: TypeState, snapshot: PreparedSnapshot): boolean {
    const pt = snapshot.types.get(t);
    if (!pt) return false;
    const inScope = (n: string) => st.wildcard || st.names.has(n);
    const changed = [...pt.resources.values()].filter(
      (r) => inScope(r.name) && st.known.get(r.name) !== r.version,
    );
    const dropped = [...st.known.keys()].filter((n) => inScope(n) && !pt.resources.has(n));
    // Make before break: removals wait until what may point at them has been updated.
    st.deferredRemoval = dropped.length > 0 && this.holdRemovals(t);
    const removed = st.deferredRemoval ? [] : dropped;
    const missing = [...st.names].filter(
      (n) => !pt.resources.has(n) && !st.known.has(n) && !st.toldMissing.has(n),
    );
    if (changed.length === 0 && removed.length === 0 && missing.length === 0 && !st.mustRespond) {
      return false;
    }
    const nonce = this.nextNonce();
    const res = create(DeltaDiscoveryResponseSchema, {
      systemVersionInfo: pt.version,
      typeUrl: t,
      nonce,
      resources: changed.map((r) =>
        create(ResourceSchema, {
          name: r.name,
          version: r.version,
          resource: create(AnySchema, { typeUrl: t, value: r.bytes }),
        }),
      ),
      removedResources: [...removed, ...missing],
    });
    for (const r of changed) {
      st.known.set(r.name, r.version);
      st.toldMissing.delete(r.name);
    }
    for (const n of removed) st.known.delete(n);
    for (const n of missing) st.toldMissing.add(n);
    st.mustRespond = false;
    this.write(t, st, res, pt.version, nonce, changed.length, removed.length + missing.length);
    return true;
  }
}

function subscriptionKey(st: TypeState): string {
  return st.wildcard ? '*' : [...st.names].sort().join('\n');
}

/** A node id for a message or log line: quoted, cut to 128 characters. */
export function quoteId(id: string): string {
  return JSON.stringify(id.length > 128 ? `${id.slice(0, 128)}…` : id);
}

function safePeer(call: { getPeer(): string }): string {
  try {
    return call.getPeer();
  } catch {
    return 'unknown';
  }
}
