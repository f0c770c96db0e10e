export {
  appEntry,
  startFrontProxyStack,
  type FrontProxyStack,
  type FrontProxyStackOptions,
} from './front-proxy-stack';
