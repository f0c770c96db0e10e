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
export {
  ADS_CONFIG_SOURCE,
  ECDS_FILTER_TYPES,
  type EnvoyJson,
  type SdsRef,
  XDS_CLUSTER,
  xdsBootstrap,
  type XdsBootstrapOptions,
  type XdsResources,
  xdsResourcesFromBootstrap,
} from './xds';
