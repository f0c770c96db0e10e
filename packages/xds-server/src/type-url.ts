/** The resource types this server serves, as the full type URLs Envoy speaks. */
export const TypeUrl = {
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  Endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  Route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  ExtensionConfig: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
} as const;

export type TypeUrlValue = (typeof TypeUrl)[keyof typeof TypeUrl];

/**
 * Push order: what a resource points at is sent (and ACKed) before it. Clusters before their
 * endpoints, extension configs (ECDS) before the listeners that use them, listeners before
 * their route configurations.
 */
export const PUSH_ORDER: readonly TypeUrlValue[] = [
  TypeUrl.Cluster,
  TypeUrl.Endpoint,
  TypeUrl.ExtensionConfig,
  TypeUrl.Listener,
  TypeUrl.Route,
];

/**
 * What a type's push waits for: the ACK of these types' outstanding responses on the same
 * stream. Routes and extension configs point at clusters, listeners at clusters and extension
 * configs, so they wait until Envoy has ACKed the clusters, which it does only once the new
 * clusters are warm (their endpoints arrived). Endpoints wait for nothing: Envoy asks for them
 * while it warms the clusters, before it ACKs the clusters. Routes do not wait for the listener
 * ACK: a listener warms until its route configuration arrives.
 */
export const WAITS_FOR: Record<TypeUrlValue, readonly TypeUrlValue[]> = {
  [TypeUrl.Cluster]: [],
  [TypeUrl.Endpoint]: [],
  [TypeUrl.ExtensionConfig]: [TypeUrl.Cluster],
  [TypeUrl.Listener]: [TypeUrl.Cluster, TypeUrl.ExtensionConfig],
  [TypeUrl.Route]: [TypeUrl.Cluster],
};

/**
 * Removals wait the other way round: a cluster leaves an Envoy only once the types that may
 * point at it (routes, listeners, extension configs) have been sent and ACKed without it. Only
 * the wildcard types remove by omission; a named type (endpoints, routes, extension configs)
 * goes when Envoy unsubscribes from it, which it does once nothing points at it.
 */
export const REMOVAL_WAITS_FOR: Record<TypeUrlValue, readonly TypeUrlValue[]> = {
  [TypeUrl.Cluster]: [TypeUrl.ExtensionConfig, TypeUrl.Listener, TypeUrl.Route],
  [TypeUrl.Endpoint]: [],
  [TypeUrl.ExtensionConfig]: [],
  [TypeUrl.Listener]: [],
  [TypeUrl.Route]: [],
};

const KNOWN = new Set<string>(PUSH_ORDER);

export function isTypeUrl(s: string): s is TypeUrlValue {
  return KNOWN.has(s);
}

/** LDS and CDS are the wildcard types: an empty SotW subscription means "everything". */
export function isWildcardType(t: TypeUrlValue): boolean {
  return t === TypeUrl.Listener || t === TypeUrl.Cluster;
}

/** Short names for logs and metric labels. */
export const TYPE_SHORT: Record<TypeUrlValue, string> = {
  [TypeUrl.Cluster]: 'cds',
  [TypeUrl.Endpoint]: 'eds',
  [TypeUrl.Listener]: 'lds',
  [TypeUrl.Route]: 'rds',
  [TypeUrl.ExtensionConfig]: 'ecds',
};

/** The message type name inside a type URL. */
export function messageTypeName(t: string): string {
  return t.slice(t.lastIndexOf('/') + 1);
}
