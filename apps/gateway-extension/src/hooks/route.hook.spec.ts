import { describe, expect, it } from 'vitest';
import { AUTHN_ROUTE_METADATA_NAMESPACE } from '@edge/auth-contract';
import { envoyRouteComponents } from '@edge/protos';
import { edgeRoutePolicySchema } from '../policy/edge-policy';
import { edgeRoutePolicy } from '../testing/xds-fixtures';
import { applyRoutePolicies } from './route.hook';

const policy = (spec: Record<string, unknown>) =>
  edgeRoutePolicySchema.parse(edgeRoutePolicy('r', spec));
const route = () =>
  envoyRouteComponents.Route.fromPartial({
    name: 'httproute/default/orders/rule/0/match/0/www_example_com',
    match: { pathSpecifier: { $case: 'pathSeparatedPrefix', value: '/orders' } },
    metadata: { filterMetadata: { 'envoy-gateway': { resources: [{ kind: 'HTTPRoute' }] } } },
  });
const roundTrip = (r: envoyRouteComponents.Route) =>
  envoyRouteComponents.Route.decode(envoyRouteComponents.Route.encode(r).finish());

describe('applyRoutePolicies (PostRouteModify)', () => {
  it("writes the route's scopes into edge.authn.route and keeps the other namespaces", () => {
    const out = roundTrip(
      applyRoutePolicies(route(), [policy({ requiredScopes: ['orders:write'] })]),
    );
    expect(out.metadata?.filterMetadata[AUTHN_ROUTE_METADATA_NAMESPACE]).toEqual({
      required_scopes: ['orders:write'],
    });
    expect(out.metadata?.filterMetadata['envoy-gateway']).toEqual({
      resources: [{ kind: 'HTTPRoute' }],
    });
  });

  it('requires every scope of several policies; public only when every one is public', () => {
    const both = applyRoutePolicies(route(), [
      policy({ requiredScopes: ['orders:write', 'orders:read'] }),
      policy({ requiredScopes: ['orders:read'], public: true }),
    ]);
    expect(both.metadata?.filterMetadata[AUTHN_ROUTE_METADATA_NAMESPACE]).toEqual({
      required_scopes: ['orders:read', 'orders:write'],
    });
    const pub = applyRoutePolicies(route(), [policy({ public: true })]);
    expect(pub.metadata?.filterMetadata[AUTHN_ROUTE_METADATA_NAMESPACE]).toEqual({
      required_scopes: [],
      public: true,
    });
  });

  it('replaces what the namespace held (idempotent) and leaves a route without policies as it was', () => {
    const p = [policy({ requiredScopes: ['a:b'] })];
    const once = roundTrip(applyRoutePolicies(route(), p));
    const twice = roundTrip(applyRoutePolicies(once, p));
    expect(Buffer.from(envoyRouteComponents.Route.encode(twice).finish())).toEqual(
      Buffer.from(envoyRouteComponents.Route.encode(once).finish()),
    );
    const r = route();
    expect(applyRoutePolicies(r, [])).toBe(r);
  });
});
