// The public surface of @edge/testkit: start real infrastructure for tests and the dev stack.
export type {
  EnvoyInfo,
  EnvoyOptions,
  InfraBackend,
  KafkaInfo,
  KafkaOptions,
  PartOptions,
  PostgresInfo,
  PostgresOptions,
  RedisInfo,
  Started,
  StartedKafka,
} from './types';
export { infraBackend, type BackendKind } from './backend';
export { localBackend } from './local';
export { freePort } from './net';
export { runUntilSignal, stopAll } from './run-until-signal';
export { loadToolPaths, type ToolPaths } from './tool-paths';
export {
  startNodeService,
  type NodeServiceInfo,
  type NodeServiceOptions,
} from './local/node-service';
export { createTestPki, type CertFiles, type TestPki } from './pki';
