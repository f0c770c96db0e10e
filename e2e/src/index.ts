export {
  appEntry,
  startFrontProxyStack,
  type FrontProxyStack,
  type FrontProxyStackOptions,
  type StackPart,
  type WorkloadKey,
} from './front-proxy-stack';
