export {
  appEntry,
  startFrontProxyStack,
  type FrontProxyStack,
  type FrontProxyStackOptions,
  type StackPart,
} from './front-proxy-stack';
