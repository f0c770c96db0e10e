import { isIP } from 'node:net';
import { envoyCluster, httpProtocolOptions } from '@edge/protos';
import { pack } from '../xds/any';
import { oneEndpoint } from '../xds/endpoints';
import { HTTP_PROTOCOL_OPTIONS_TYPE } from '../xds/type-names';

type Cluster = envoyCluster.Cluster;

export interface AuthnClusterOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/**
 * The authn processor's cluster, as the front proxy's `authn_processor` (envoy/front-proxy.yaml):
 * HTTP/2 (ext_proc is gRPC), 1 s connect timeout, 32 KiB per-connection buffer. An IP address
 * makes a STATIC cluster, a host name (a Kubernetes Service) a STRICT_DNS one.
 */
export function authnCluster(o: AuthnClusterOptions): Cluster {
  const dns = isIP(o.host) === 0;
  return envoyCluster.Cluster.fromPartial({
    name: o.name,
    clusterDiscoveryType: {
      $case: 'type',
      value: dns
        ? envoyCluster.Cluster_DiscoveryType.STRICT_DNS
        : envoyCluster.Cluster_DiscoveryType.STATIC,
    },
    connectTimeout: { seconds: 1, nanos: 0 },
    perConnectionBufferLimitBytes: 32_768,
    typedExtensionProtocolOptions: {
      [HTTP_PROTOCOL_OPTIONS_TYPE]: pack(
        HTTP_PROTOCOL_OPTIONS_TYPE,
        httpProtocolOptions.HttpProtocolOptions,
        httpProtocolOptions.HttpProtocolOptions.fromPartial({
          upstreamProtocolOptions: {
            $case: 'explicitHttpConfig',
            value: {
              protocolConfig: { $case: 'http2ProtocolOptions', value: {} },
            },
          },
        }),
      ),
    },
    loadAssignment: oneEndpoint(o.name, o.host, o.port),
  });
}

/**
 * PostTranslateModify's clusters: Envoy Gateway replaces its clusters with what the hook
 * returns, so every cluster comes back, plus the authn processor's when none has its name.
 */
export function withAuthnCluster(
  clusters: readonly Cluster[],
  o: AuthnClusterOptions,
): { clusters: Cluster[]; added: boolean } {
  if (clusters.some((c) => c.name === o.name)) return { clusters: [...clusters], added: false };
  return { clusters: [...clusters, authnCluster(o)], added: true };
}
