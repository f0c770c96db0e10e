// The public surface of @edge/testkit: start real infrastructure for tests and the dev stack.
export type {
  EnvoyInfo,
  EnvoyOptions,
  InfraBackend,
  KafkaInfo,
  KafkaOptions,
  NodeServiceInfo,
  NodeServiceOptions,
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
export { containersBackend } from './containers';
export { startNodeService } from './local/node-service';
export { createTestPki, type CertFiles, type TestPki } from './pki';
