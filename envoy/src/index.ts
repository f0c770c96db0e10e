export {
  envoyConfigPath,
  FRONT_PROXY_DEFAULTS,
  renderEnvoyConfig,
  renderTemplate,
  type EnvoyConfigName,
  type FrontProxyVars,
  headerFilterConfigValue,
  SIDECAR_HEADER_FILTER,
  type SidecarVars,
} from './render';
