import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { DiscoveryRequestSchema, envoyApiRegistry } from './xds';

describe('@edge/protos/xds', () => {
  it('has every Envoy type the project configs name, for `@type` resolution', () => {
    const registry = envoyApiRegistry();
    for (const t of [
      'envoy.config.listener.v3.Listener',
      'envoy.config.core.v3.TypedExtensionConfig',
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      'envoy.extensions.filters.http.router.v3.Router',
      'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
      'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      'envoy.extensions.filters.http.wasm.v3.Wasm',
      'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
      'envoy.extensions.access_loggers.file.v3.FileAccessLog',
      'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      'envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig',
      'envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter',
      'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      'envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig',
      'envoy.config.route.v3.FilterConfig',
      'google.protobuf.StringValue',
    ]) {
      expect(registry.getMessage(t), t).toBeDefined();
    }
  });

  it('round-trips a discovery request', () => {
    const req = create(DiscoveryRequestSchema, {
      typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      node: { id: 'n', cluster: 'c' },
      resourceNames: ['a'],
    });
    const back = fromBinary(DiscoveryRequestSchema, toBinary(DiscoveryRequestSchema, req));
    expect(back.node?.id).toBe('n');
    expect(back.resourceNames).toEqual(['a']);
  });
});
