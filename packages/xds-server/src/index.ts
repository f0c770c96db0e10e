// @edge/xds-server: an xDS management server library on @grpc/grpc-js.
export {
  TypeUrl,
  PUSH_ORDER,
  WAITS_FOR,
  REMOVAL_WAITS_FOR,
  isTypeUrl,
  type TypeUrlValue,
} from './type-url';
export {
  ConsistencyError,
  type ConsistencyIssue,
  type ResourceJson,
  type Snapshot,
} from './snapshot';
export { validateSnapshot } from './consistency';
export { SnapshotCache } from './snapshot-cache';
export {
  XdsServer,
  adsServiceDefinition,
  type NackRecord,
  type NodeAuthorizer,
  type NodeStatus,
  type RefusalRecord,
  type XdsPeer,
  type XdsServerOptions,
} from './xds-server';
export type {
  AckEvent,
  ConnectEvent,
  DisconnectEvent,
  NackEvent,
  NodeIdentity,
  PushEvent,
  RefusalKind,
  RefuseEvent,
  StreamKind,
  XdsEvents,
} from './events';
export { silentLogger, type Logger } from './logger';
export type { XdsCall } from './stream';
