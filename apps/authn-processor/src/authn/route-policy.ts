/**
 * Envoy route metadata namespace this processor reads, only from the `xds.route_metadata`
 * attribute (`request_attributes: [xds.route_metadata]`): route configuration, which no filter
 * can write at run time. Never read from forwarded dynamic metadata, and apart from `edge.authn`
 * (the dynamic metadata this processor writes).
 */
export const ROUTE_METADATA_NAMESPACE = 'edge.authn.route';

/**
 * What a route asks of the caller, from `filter_metadata: { edge.authn.route: {...} }`:
 * - `required_scopes`: `["echo:read", ...]`, every one must be granted (403 otherwise);
 * - `public: true`: requests without credentials pass (with identity headers removed);
 *   requests with credentials are still verified.
 * A route without the namespace requires authentication and no particular scope.
 */
export interface RoutePolicy {
  readonly requiredScopes: readonly string[];
  readonly public: boolean;
}

export const DEFAULT_POLICY: RoutePolicy = Object.freeze({ requiredScopes: [], public: false });

const SCOPE = /^(\*|[a-z0-9][a-z0-9._-]{0,62}):(\*|[a-z0-9][a-z0-9._-]{0,62})$/;

/** Thrown for route metadata that cannot be read: the route is misconfigured, fail closed. */
export class RoutePolicyError extends Error {
  constructor(readonly sentence: string) {
    super(sentence);
    this.name = 'RoutePolicyError';
  }
}

export function parseRoutePolicy(ns: Readonly<Record<string, unknown>> | undefined): RoutePolicy {
  if (ns === undefined) return DEFAULT_POLICY;
  const rs = ns.required_scopes;
  let requiredScopes: string[] = [];
  if (rs !== undefined && rs !== null) {
    if (
      !Array.isArray(rs) ||
      !rs.every((s): s is string => typeof s === 'string' && SCOPE.test(s))
    ) {
      throw new RoutePolicyError(
        `${ROUTE_METADATA_NAMESPACE}.required_scopes must be resource:action strings`,
      );
    }
    requiredScopes = rs;
  }
  const pub = ns.public;
  if (pub !== undefined && pub !== null && typeof pub !== 'boolean') {
    throw new RoutePolicyError(`${ROUTE_METADATA_NAMESPACE}.public must be a boolean`);
  }
  if (requiredScopes.length === 0 && pub !== true) return DEFAULT_POLICY;
  return { requiredScopes, public: pub === true };
}

function covers(granted: string, required: string): boolean {
  if (granted === required) return true;
  const g = granted.indexOf(':');
  const r = required.indexOf(':');
  const gRes = granted.slice(0, g);
  const gAct = granted.slice(g + 1);
  return (
    (gRes === '*' || gRes === required.slice(0, r)) &&
    (gAct === '*' || gAct === required.slice(r + 1))
  );
}

/** Required scopes not covered by any granted one (`*` in a granted resource/action matches all). */
export function missingScopes(required: readonly string[], granted: readonly string[]): string[] {
  return required.filter((r) => !granted.some((g) => covers(g, r)));
}
