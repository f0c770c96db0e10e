/**
 * Envoy metadata namespaces. Two, on purpose: the route's policy is read only from the ROUTE's
 * own namespace, which no filter can write, while the verified identity is written to the
 * dynamic one (for access logs and later filters). Reading policy from a namespace that dynamic
 * metadata can also carry would let an earlier filter relax a route's scopes.
 */

/** Dynamic metadata the authn processor emits: `{ via, tenant, user_id, key_id }`. */
export const AUTHN_DYNAMIC_METADATA_NAMESPACE = 'edge.authn';

/**
 * Route metadata (`filter_metadata`) with the route's policy, read from `xds.route_metadata`:
 * `{ required_scopes: ["echo:read"] }` or `{ public: true }`.
 */
export const AUTHN_ROUTE_METADATA_NAMESPACE = 'edge.authn.route';
