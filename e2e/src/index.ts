export {
  startFrontProxyStack,
  type FrontProxyStack,
  type FrontProxyStackOptions,
} from './front-proxy-stack';
