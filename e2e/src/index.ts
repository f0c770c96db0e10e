export {
  appEntry,
  startFrontProxyStack,
  type FrontProxyStack,
  type FrontProxyStackOptions,
  type LoggingStackOptions,
  type StackPart,
} from './front-proxy-stack';
