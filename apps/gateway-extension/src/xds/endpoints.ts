import { envoyEndpoint } from '@edge/protos';

/** A cluster's load assignment with one endpoint, `host:port` (an IP address or a DNS name). */
export function oneEndpoint(
  clusterName: string,
  host: string,
  port: number,
): envoyEndpoint.ClusterLoadAssignment {
  return envoyEndpoint.ClusterLoadAssignment.fromPartial({
    clusterName,
    endpoints: [
      {
        lbEndpoints: [
          {
            hostIdentifier: {
              $case: 'endpoint',
              value: {
                address: {
                  address: {
                    $case: 'socketAddress',
                    value: { address: host, portSpecifier: { $case: 'portValue', value: port } },
                  },
                },
              },
            },
          },
        ],
      },
    ],
  });
}
