import { AUTHN_ROUTE_METADATA_NAMESPACE, type Scope, scopeFromString } from '@edge/auth-contract';

/**
 * Envoy route metadata namespace this processor reads, only from the `xds.route_metadata`
 * attribute (`request_attributes: [xds.route_metadata]`): route configuration, which no filter
 * can write at run time. Never read from forwarded dynamic metadata, and apart from `edge.authn`
 * (the dynamic metadata this processor writes).
 */
export const ROUTE_METADATA_NAMESPACE = AUTHN_ROUTE_METADATA_NAMESPACE;

/**
 * What a route asks of the caller, from `filter_metadata: { edge.authn.route: {...} }`:
 * - `required_scopes`: `["echo:read", ...]`, every one must be granted (403 otherwise);
 * - `public: true`: requests without credentials pass (with identity headers removed);
 *   requests with credentials are still verified.
 * A route without the namespace requires authentication and no particular scope.
 */
export interface RoutePolicy {
  readonly requiredScopes: readonly Scope[];
  readonly public: boolean;
}

export const DEFAULT_POLICY: RoutePolicy = Object.freeze({ requiredScopes: [], public: false });

/** Thrown for route metadata that cannot be read: the route is misconfigured, fail closed. */
export class RoutePolicyError extends Error {
  constructor(readonly sentence: string) {
    super(sentence);
    this.name = 'RoutePolicyError';
  }
}

// Route metadata objects repeat per route (processor-core parses each route's metadata once):
// the policy of each is parsed once too.
const parsed = new WeakMap<object, RoutePolicy>();

export function parseRoutePolicy(ns: Readonly<Record<string, unknown>> | undefined): RoutePolicy {
  if (ns === undefined) return DEFAULT_POLICY;
  let policy = parsed.get(ns);
  if (policy === undefined) {
    policy = parseUncached(ns);
    parsed.set(ns, policy);
  }
  return policy;
}

function parseUncached(ns: Readonly<Record<string, unknown>>): RoutePolicy {
  const rs = ns.required_scopes;
  let requiredScopes: Scope[] = [];
  if (rs !== undefined && rs !== null) {
    const list = Array.isArray(rs)
      ? rs.map((s) => (typeof s === 'string' ? scopeFromString(s) : undefined))
      : [undefined];
    if (!list.every((s): s is Scope => s !== undefined)) {
      throw new RoutePolicyError(
        `${ROUTE_METADATA_NAMESPACE}.required_scopes must be resource:action strings`,
      );
    }
    requiredScopes = list;
  }
  const pub = ns.public;
  if (pub !== undefined && pub !== null && typeof pub !== 'boolean') {
    throw new RoutePolicyError(`${ROUTE_METADATA_NAMESPACE}.public must be a boolean`);
  }
  if (requiredScopes.length === 0 && pub !== true) return DEFAULT_POLICY;
  return Object.freeze({ requiredScopes, public: pub === true });
}
