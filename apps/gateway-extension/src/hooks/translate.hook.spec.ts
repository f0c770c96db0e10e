import { describe, expect, it } from 'vitest';
import { envoyCluster, httpProtocolOptions } from '@edge/protos';
import { HTTP_PROTOCOL_OPTIONS_TYPE } from '../xds/type-names';
import { withAuthnCluster } from './translate.hook';

const opts = { name: 'edge_authn_processor', host: '127.0.0.1', port: 9001 };
const egCluster = (name: string) => envoyCluster.Cluster.fromPartial({ name });

describe('withAuthnCluster (PostTranslateModify)', () => {
  it('adds the authn cluster (HTTP/2, STATIC for an IP) after every existing cluster', () => {
    const { clusters, added } = withAuthnCluster([egCluster('a'), egCluster('b')], opts);
    expect(added).toBe(true);
    expect(clusters.map((c) => c.name)).toEqual(['a', 'b', 'edge_authn_processor']);
    const c = envoyCluster.Cluster.decode(envoyCluster.Cluster.encode(clusters[2]!).finish());
    expect(c.clusterDiscoveryType).toEqual({
      $case: 'type',
      value: envoyCluster.Cluster_DiscoveryType.STATIC,
    });
    const ep = c.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
    expect(ep?.$case === 'endpoint' && ep.value.address?.address).toEqual({
      $case: 'socketAddress',
      value: expect.objectContaining({
        address: '127.0.0.1',
        portSpecifier: { $case: 'portValue', value: 9001 },
      }) as unknown,
    });
    const po = c.typedExtensionProtocolOptions[HTTP_PROTOCOL_OPTIONS_TYPE];
    const http = httpProtocolOptions.HttpProtocolOptions.decode(po!.value);
    expect(http.upstreamProtocolOptions?.$case).toBe('explicitHttpConfig');
  });

  it('uses STRICT_DNS for a host name (a Kubernetes Service)', () => {
    const { clusters } = withAuthnCluster([], { ...opts, host: 'authn-processor.edge.svc' });
    expect(clusters[0]!.clusterDiscoveryType).toEqual({
      $case: 'type',
      value: envoyCluster.Cluster_DiscoveryType.STRICT_DNS,
    });
  });

  it('leaves the clusters alone when one already has the name', () => {
    const mine = egCluster('edge_authn_processor');
    const { clusters, added } = withAuthnCluster([egCluster('a'), mine], opts);
    expect(added).toBe(false);
    expect(clusters).toEqual([egCluster('a'), mine]);
  });
});
