export {
  envoyConfigPath,
  renderEnvoyConfig,
  renderTemplate,
  type EnvoyConfigName,
  type FrontProxyVars,
} from './render';
