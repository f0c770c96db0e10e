import {
  envoyBootstrap,
  envoyCluster,
  envoyListener,
  envoyRoute,
  envoyRouteComponents,
  type httpConnectionManager,
} from '@edge/protos';
import { oneEndpoint } from '../src/xds/endpoints';
import { hcm, hcmNetworkFilter } from '../src/testing/xds-fixtures';

/** A plain HTTP/1 upstream on loopback (echo's sidecar). */
export function staticCluster(name: string, port: number): envoyCluster.Cluster {
  return envoyCluster.Cluster.fromPartial({
    name,
    clusterDiscoveryType: { $case: 'type', value: envoyCluster.Cluster_DiscoveryType.STATIC },
    connectTimeout: { seconds: 1, nanos: 0 },
    loadAssignment: oneEndpoint(name, '127.0.0.1', port),
  });
}

/** A route as Envoy Gateway builds one from an HTTPRoute rule: a prefix to a cluster. */
export function prefixRoute(
  name: string,
  prefix: string,
  cluster: string,
): envoyRouteComponents.Route {
  return envoyRouteComponents.Route.fromPartial({
    name,
    match: { pathSpecifier: { $case: 'prefix', value: prefix } },
    action: {
      $case: 'route',
      value: {
        clusterSpecifier: { $case: 'cluster', value: cluster },
        timeout: { seconds: 15, nanos: 0 },
      },
    },
  });
}

/**
 * An Envoy Gateway-shaped HTTP listener on 127.0.0.1:port whose HCM carries its routes inline
 * (a static bootstrap has no RDS server; the hooks treat both alike).
 */
export function httpListener(
  name: string,
  port: number,
  routes: envoyRouteComponents.Route[],
  httpFilters: httpConnectionManager.HttpFilter[],
): envoyListener.Listener {
  const h = hcm(name, httpFilters);
  h.routeSpecifier = {
    $case: 'routeConfig',
    value: envoyRoute.RouteConfiguration.fromPartial({
      name,
      virtualHosts: [{ name, domains: ['*'], routes }],
    }),
  };
  return envoyListener.Listener.fromPartial({
    name,
    address: {
      address: {
        $case: 'socketAddress',
        value: { address: '127.0.0.1', portSpecifier: { $case: 'portValue', value: port } },
      },
    },
    filterChains: [{ filters: [hcmNetworkFilter(h)] }],
  });
}

/** A static bootstrap with the given listeners and clusters, as bytes (Envoy's `-c x.pb`). */
export function bootstrapBytes(
  listeners: envoyListener.Listener[],
  clusters: envoyCluster.Cluster[],
): Uint8Array {
  return envoyBootstrap.Bootstrap.encode(
    envoyBootstrap.Bootstrap.fromPartial({ staticResources: { listeners, clusters, secrets: [] } }),
  ).finish();
}
