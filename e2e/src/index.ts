export {
  appEntry,
  startFrontProxyStack,
  type FrontProxyStack,
  type FrontProxyStackOptions,
  type LoggingStackOptions,
  type StackPart,
  type WorkloadKey,
} from './front-proxy-stack';
