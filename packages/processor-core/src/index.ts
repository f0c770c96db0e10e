// @edge/processor-core: a TypeScript SDK for Envoy External Processors (ext_proc).
export { Headers, headerValueString } from './headers';
export { errorBody, errorDetails, statusMessage, type ErrorBody } from './error-body';
export { StreamContext, StreamInfo } from './context';
export type {
  BodyPhase,
  HeaderMutations,
  HeadersPhase,
  ImmediateResponseOptions,
  PhaseCommon,
  PhaseKind,
  TrailersPhase,
} from './phase';
export {
  BaseProcessor,
  compose,
  isComposition,
  asComposition,
  HOOKS,
  type AnyProcessor,
  type Composition,
  type ErrorPolicy,
  type HookName,
  type HookResult,
  type Processor,
} from './processor';
export {
  SMALLEST_MODE,
  fullMode,
  toEnvoyProcessingMode,
  toProtoMode,
  unionModes,
  type BodySendMode,
  type FullProcessingMode,
  type HeaderSendMode,
  type ProcessingModeSpec,
} from './mode';
export {
  jsonLogger,
  silentLogger,
  type JsonLoggerOptions,
  type LogLevel,
  type Logger,
} from './logger';
export {
  ExtProcMetrics,
  startMetricsServer,
  type MetricsOptions,
  type MetricsServer,
} from './metrics';
export { HealthService, type ServingStatus } from './health';
export {
  createStreamRuntime,
  ExtProcStream,
  type ExtProcHooks,
  type StreamEvent,
  type StreamOutcome,
  type StreamRuntime,
  type StreamRuntimeOptions,
  type StreamStep,
} from './stream';
export {
  createExtProcServer,
  DEFAULT_STREAM_RESET_RATE,
  DEFAULT_APPLIED_HEADER,
  DEFAULT_SELECTOR_KEY,
  EXT_PROC_SERVICE,
  type ExtProcServer,
  type ExtProcServerOptions,
} from './server';
