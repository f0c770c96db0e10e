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
export { nodeXdsResources, renderNode, type TopologyNode } from './topology';
export {
  DEV_CONTROL_PLANE,
  DEV_HEADER_CACHE_EXPIRY,
  DEV_NODE_IDS,
  DEV_PORTS,
  DEV_SIDECAR_PORTS,
  DEV_XDS_PKI_DIR,
  devTopology,
} from './dev-topology';
