import { AUTHN_ROUTE_METADATA_NAMESPACE } from '@edge/auth-contract';
import { type envoyRouteComponents } from '@edge/protos';
import { type EdgeRoutePolicy } from '../policy/edge-policy';

type Route = envoyRouteComponents.Route;

/**
 * The route policy the authn processor reads from `xds.route_metadata`, namespace
 * `edge.authn.route` (apps/authn-processor's route-policy.ts): `required_scopes`, `public`.
 * Several policies on one route: every scope is required (union), and the route is public only
 * if every policy says so (the stricter reading wins).
 */
export function routeMetadata(policies: readonly EdgeRoutePolicy[]): Record<string, unknown> {
  const scopes = [...new Set(policies.flatMap((p) => p.spec.requiredScopes ?? []))].sort();
  const isPublic = policies.length > 0 && policies.every((p) => p.spec.public === true);
  return isPublic ? { required_scopes: scopes, public: true } : { required_scopes: scopes };
}

/**
 * PostRouteModify's work: the route's policy as route metadata in `edge.authn.route`, replacing
 * whatever that namespace held (idempotent). No valid policy: the route comes back as it was
 * (the authn processor's default then applies: authenticated, no particular scope).
 */
export function applyRoutePolicies(route: Route, policies: readonly EdgeRoutePolicy[]): Route {
  if (policies.length === 0) return route;
  const metadata = route.metadata ?? { filterMetadata: {}, typedFilterMetadata: {} };
  return {
    ...route,
    metadata: {
      ...metadata,
      filterMetadata: {
        ...metadata.filterMetadata,
        [AUTHN_ROUTE_METADATA_NAMESPACE]: routeMetadata(policies),
      },
    },
  };
}
