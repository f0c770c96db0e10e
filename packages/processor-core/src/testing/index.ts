// @edge/processor-core/testing: play Envoy's side of an ext_proc stream (in-process or over
// gRPC), and build Envoy configs for integration tests.
export {
  createHarness,
  connectHarness,
  Harness,
  GrpcHarness,
  toHeaderMap,
  type GrpcHarnessOptions,
  type HarnessOptions,
  type HeaderInput,
  type MessageOptions,
  type StreamDriverApi,
} from './harness';
export {
  headerChanges,
  toPhaseResult,
  type HeaderChanges,
  type ImmediateResult,
  type PhaseResult,
} from './results';
export {
  buildEnvoyConfig,
  type EnvoyConfigOptions,
  type ExtProcFilterSpec,
  type RouteSpec,
} from './envoy-config';
