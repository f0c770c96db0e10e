import { describe, expect, it } from 'vitest';
import { loadGatewayExtensionConfig } from './gateway-extension.config';

describe('gateway-extension config', () => {
  it('defaults to loopback and the ports of the port table (7500 gRPC, 7501 health/metrics)', () => {
    expect(loadGatewayExtensionConfig({})).toMatchObject({
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: 7500,
      METRICS_PORT: 7501,
      AUTHN_PROCESSOR_HOST: '127.0.0.1',
      AUTHN_PROCESSOR_PORT: 9001,
      AUTHN_CLUSTER_NAME: 'edge_authn_processor',
    });
  });

  it('reports every bad variable at once', () => {
    expect(() =>
      loadGatewayExtensionConfig({
        GRPC_PORT: '70000',
        AUTHN_CLUSTER_NAME: 'has space',
        MAX_RESOURCE_BYTES: '1',
      }),
    ).toThrow(/GRPC_PORT[\s\S]*AUTHN_CLUSTER_NAME[\s\S]*MAX_RESOURCE_BYTES|GRPC_PORT/);
  });
});
