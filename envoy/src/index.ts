export {
  envoyConfigPath,
  FRONT_PROXY_DEFAULTS,
  renderEnvoyConfig,
  renderTemplate,
  type EnvoyConfigName,
  type FrontProxyVars,
} from './render';
