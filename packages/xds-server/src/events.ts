import type { TypeUrlValue } from './type-url';

export type StreamKind = 'sotw' | 'delta';

/** The node identity from a stream's first request. */
export interface NodeIdentity {
  id: string;
  cluster: string;
}

export interface ConnectEvent {
  node: NodeIdentity;
  kind: StreamKind;
  streamId: number;
  peer: string;
}

export interface DisconnectEvent extends ConnectEvent {
  reason: string;
}

/** Why a stream was refused (the `reason` label of `xds_refused_streams_total`). */
export type RefusalKind = 'no_node_id' | 'unauthorized' | 'authorizer_error' | 'node_changed';

/** A stream ended before anything was pushed for the node it claimed (or when it changed node). */
export interface RefuseEvent {
  /** The node the request claimed (id empty for `no_node_id`). */
  node: NodeIdentity;
  kind: StreamKind;
  streamId: number;
  peer: string;
  refusal: RefusalKind;
  /** The message the stream ended with (names the node id, never a secret). */
  message: string;
}

export interface PushEvent {
  node: NodeIdentity;
  kind: StreamKind;
  streamId: number;
  typeUrl: TypeUrlValue;
  version: string;
  nonce: string;
  /** Resources sent (SotW: all in the response; delta: changed ones). */
  resources: number;
  /** Delta only: names removed in this response. */
  removed: number;
}

export interface AckEvent {
  node: NodeIdentity;
  kind: StreamKind;
  streamId: number;
  typeUrl: TypeUrlValue;
  version: string;
  nonce: string;
  /** From the push to this ACK, milliseconds. */
  latencyMs: number;
}

export interface NackEvent extends AckEvent {
  /** Envoy's error_detail.message. */
  message: string;
}

/** The events an XdsServer emits (Node EventEmitter). */
export interface XdsEvents {
  connect: [ConnectEvent];
  disconnect: [DisconnectEvent];
  push: [PushEvent];
  ack: [AckEvent];
  nack: [NackEvent];
  refuse: [RefuseEvent];
}
