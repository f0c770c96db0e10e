/** Full protobuf type names of the xDS messages the hooks read and write. */
export const HCM_TYPE =
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const EXT_PROC_TYPE = 'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor';
export const BASIC_AUTH_TYPE = 'envoy.extensions.filters.http.basic_auth.v3.BasicAuth';
export const ROUTER_TYPE = 'envoy.extensions.filters.http.router.v3.Router';
export const HTTP_PROTOCOL_OPTIONS_TYPE = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Filter names Envoy (and Envoy Gateway) use for the HCM and the router. */
export const HCM_FILTER_NAME = 'envoy.filters.network.http_connection_manager';
export const ROUTER_FILTER_NAME = 'envoy.filters.http.router';

export const TYPE_URL_PREFIX_ROUTER = `type.googleapis.com/${ROUTER_TYPE}`;
