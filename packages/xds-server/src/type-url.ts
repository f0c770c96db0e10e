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
