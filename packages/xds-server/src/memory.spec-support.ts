// Unit-test support (not exported): an in-memory duplex standing in for a grpc-js call, and a
// small topology in Envoy JSON.
import { EventEmitter } from 'node:events';
import type { PeerCertificate } from 'node:tls';
import { create } from '@bufbuild/protobuf';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '@edge/protos/xds';
import type { ResourceJson, Snapshot } from './snapshot';
import type { XdsCall } from './stream';
import { TypeUrl } from './type-url';

export class MemoryCall<Req, Res> extends EventEmitter implements XdsCall<Req, Res> {
  readonly sent: Res[] = [];
  ended = false;
  status?: { code: number; details: string };

  /** `certificate`: what getAuthContext() reports as the verified client certificate. */
  constructor(private readonly certificate?: Partial<PeerCertificate>) {
    super();
    this.on('error', (e: { code: number; details: string }) => {
      this.status = e;
    });
  }

  write(res: Res): boolean {
    this.sent.push(res);
    return true;
  }

  end(): void {
    this.ended = true;
  }

  getPeer(): string {
    return 'memory';
  }

  getAuthContext(): { sslPeerCertificate?: PeerCertificate } {
    return this.certificate ? { sslPeerCertificate: this.certificate as PeerCertificate } : {};
  }

  send(req: Req): void {
    this.emit('data', req);
  }

  /** Responses sent since the last call. */
  take(): Res[] {
    return this.sent.splice(0);
  }
}

export type SotwCall = MemoryCall<DiscoveryRequest, DiscoveryResponse>;
export type DeltaCall = MemoryCall<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

export const node = { id: 'n1', cluster: 'c1' };

export function sotwReq(
  init: Partial<{
    typeUrl: string;
    versionInfo: string;
    responseNonce: string;
    resourceNames: string[];
    error: string;
    withNode: boolean;
  }>,
): DiscoveryRequest {
  return create(DiscoveryRequestSchema, {
    typeUrl: init.typeUrl ?? TypeUrl.Cluster,
    versionInfo: init.versionInfo ?? '',
    responseNonce: init.responseNonce ?? '',
    resourceNames: init.resourceNames ?? [],
    ...(init.withNode === false ? {} : { node }),
    ...(init.error !== undefined ? { errorDetail: { code: 3, message: init.error } } : {}),
  });
}

export function deltaReq(
  init: Partial<{
    typeUrl: string;
    responseNonce: string;
    subscribe: string[];
    unsubscribe: string[];
    initial: Record<string, string>;
    error: string;
  }>,
): DeltaDiscoveryRequest {
  return create(DeltaDiscoveryRequestSchema, {
    node,
    typeUrl: init.typeUrl ?? TypeUrl.Cluster,
    responseNonce: init.responseNonce ?? '',
    resourceNamesSubscribe: init.subscribe ?? [],
    resourceNamesUnsubscribe: init.unsubscribe ?? [],
    initialResourceVersions: init.initial ?? {},
    ...(init.error !== undefined ? { errorDetail: { code: 3, message: init.error } } : {}),
  });
}

export const cluster = (name: string, timeout = '1s'): ResourceJson => ({
  name,
  value: {
    type: 'EDS',
    connect_timeout: timeout,
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
  },
});

export const endpoints = (name: string, port: number): ResourceJson => ({
  name,
  value: {
    endpoints: [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
        ],
      },
    ],
  },
});

export const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export const listener = (
  name: string,
  routeName: string,
  httpFilters: unknown[] = [],
): ResourceJson => ({
  name,
  value: {
    address: { socket_address: { address: '127.0.0.1', port_value: 10000 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'hcm',
            typed_config: {
              '@type': HCM,
              stat_prefix: name,
              rds: {
                route_config_name: routeName,
                config_source: { ads: {}, resource_api_version: 'V3' },
              },
              http_filters: [
                ...httpFilters,
                {
                  name: 'envoy.filters.http.router',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  },
});

export const route = (name: string, clusterName: string): ResourceJson => ({
  name,
  value: {
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, route: { cluster: clusterName } }],
      },
    ],
  },
});

/** clusters a, b (EDS) with endpoints, listener l → route r → a. */
export function baseSnapshot(
  over: Partial<{ routeCluster: string; timeoutA: string; portA: number }> = {},
): Snapshot {
  return {
    resources: {
      [TypeUrl.Cluster]: [cluster('a', over.timeoutA), cluster('b')],
      [TypeUrl.Endpoint]: [endpoints('a', over.portA ?? 1001), endpoints('b', 1002)],
      [TypeUrl.Listener]: [listener('l', 'r')],
      [TypeUrl.Route]: [route('r', over.routeCluster ?? 'a')],
    },
  };
}
