import { createHash } from 'node:crypto';
import {
  type egExtensionContext,
  envoyListener,
  type envoyListenerComponents,
  httpConnectionManager,
  type protobufAny,
  routerFilter,
} from '@edge/protos';
import { pack } from '../xds/any';
import { HCM_FILTER_NAME, HCM_TYPE, ROUTER_FILTER_NAME, ROUTER_TYPE } from '../xds/type-names';
import { POLICY_API_VERSION } from '../policy/edge-policy';

type HttpFilter = httpConnectionManager.HttpFilter;

/** An htpasswd line as Envoy's basic_auth reads it (`htpasswd -s`). */
export function htpasswd(user: string, password: string): string {
  return `${user}:{SHA}${createHash('sha1').update(password).digest('base64')}`;
}

export const routerHttpFilter = (): HttpFilter => ({
  name: ROUTER_FILTER_NAME,
  configType: {
    $case: 'typedConfig',
    value: pack(ROUTER_TYPE, routerFilter.Router, routerFilter.Router.fromPartial({})),
  },
  isOptional: false,
  disabled: false,
});

/** An Envoy Gateway-like filter before ours (its own names look like this). */
export const otherHttpFilter = (name = 'envoy.filters.http.cors'): HttpFilter => ({
  name,
  configType: {
    $case: 'typedConfig',
    value: {
      typeUrl: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
      value: Buffer.alloc(0),
    },
  },
  isOptional: false,
  disabled: false,
});

/** The HCM as Envoy Gateway builds one: RDS route config, filters ending in the router. */
export function hcm(
  statPrefix: string,
  httpFilters: HttpFilter[],
  routeConfigName = statPrefix,
): httpConnectionManager.HttpConnectionManager {
  return httpConnectionManager.HttpConnectionManager.fromPartial({
    statPrefix,
    codecType: httpConnectionManager.HttpConnectionManager_CodecType.AUTO,
    routeSpecifier: {
      $case: 'rds',
      value: {
        routeConfigName,
        configSource: {
          resourceApiVersion: 2,
          configSourceSpecifier: { $case: 'ads', value: {} },
        },
      },
    },
    httpFilters,
  });
}

export function hcmNetworkFilter(
  h: httpConnectionManager.HttpConnectionManager,
): envoyListenerComponents.Filter {
  return {
    name: HCM_FILTER_NAME,
    configType: {
      $case: 'typedConfig',
      value: pack(HCM_TYPE, httpConnectionManager.HttpConnectionManager, h),
    },
  };
}

export function tcpProxyFilter(): envoyListenerComponents.Filter {
  const any: protobufAny.Any = {
    typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
    value: Buffer.from([0x0a, 0x03, 0x74, 0x63, 0x70]), // stat_prefix: "tcp"
  };
  return {
    name: 'envoy.filters.network.tcp_proxy',
    configType: { $case: 'typedConfig', value: any },
  };
}

export interface ListenerShape {
  name?: string;
  port?: number;
  /** HTTP filters of each filter chain's HCM (one chain per entry). */
  chains: HttpFilter[][];
  /** HTTP filters of the default filter chain's HCM; undefined: no default chain. */
  defaultChain?: HttpFilter[];
}

/** A listener with several filter chains (SNI-matched, as Envoy Gateway's HTTPS listeners). */
export function listener(shape: ListenerShape): envoyListener.Listener {
  const name = shape.name ?? 'default/eg/http';
  return envoyListener.Listener.fromPartial({
    name,
    address: {
      address: {
        $case: 'socketAddress',
        value: {
          address: '127.0.0.1',
          portSpecifier: { $case: 'portValue', value: shape.port ?? 10080 },
        },
      },
    },
    filterChains: shape.chains.map((filters, i) => ({
      name: `${name}/chain-${i}`,
      filterChainMatch: { serverNames: [`host${i}.example.com`] },
      filters: [hcmNetworkFilter(hcm(`${name}-${i}`, filters, name))],
    })),
    defaultFilterChain:
      shape.defaultChain === undefined
        ? undefined
        : {
            name: `${name}/default`,
            filters: [hcmNetworkFilter(hcm(`${name}-default`, shape.defaultChain, name))],
          },
  });
}

/** A TCP listener (tcp_proxy, no HCM). */
export function tcpListener(name = 'default/eg/tcp'): envoyListener.Listener {
  return envoyListener.Listener.fromPartial({
    name,
    filterChains: [{ filters: [tcpProxyFilter()] }],
  });
}

/** The HTTP filters of every HCM of a listener, chain by chain (default chain last). */
export function httpFiltersOf(l: envoyListener.Listener): HttpFilter[][] {
  const chains = [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])];
  return chains.flatMap((c) =>
    c.filters.flatMap((f) =>
      f.configType?.$case === 'typedConfig' && f.configType.value.typeUrl.endsWith(HCM_TYPE)
        ? [httpConnectionManager.HttpConnectionManager.decode(f.configType.value.value).httpFilters]
        : [],
    ),
  );
}

/** A Kubernetes object as Envoy Gateway passes it (`unstructured_bytes`: its JSON). */
export function resource(obj: unknown): egExtensionContext.ExtensionResource {
  return { unstructuredBytes: Buffer.from(JSON.stringify(obj)) };
}

export function edgePolicy(
  name: string,
  spec: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: POLICY_API_VERSION,
    kind: 'EdgePolicy',
    metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z', ...meta },
    spec: {
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'eg' }],
      ...spec,
    },
  };
}

export function edgeRoutePolicy(
  name: string,
  spec: Record<string, unknown>,
): Record<string, unknown> {
  return {
    apiVersion: POLICY_API_VERSION,
    kind: 'EdgeRoutePolicy',
    metadata: { name, namespace: 'default' },
    spec,
  };
}
