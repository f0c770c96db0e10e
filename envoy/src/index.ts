export {
  envoyConfigPath,
  renderEnvoyConfig,
  renderTemplate,
  type EnvoyConfigName,
  type FrontProxyVars,
  headerFilterConfigValue,
  SIDECAR_HEADER_FILTER,
  type SidecarVars,
} from './render';
