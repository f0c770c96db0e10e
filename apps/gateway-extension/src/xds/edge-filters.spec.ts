import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AUTHN_DYNAMIC_METADATA_NAMESPACE } from '@edge/auth-contract';
import { renderEnvoyConfig } from '@edge/envoy-config';
import { extProcFilter, extProcFilterMode } from '@edge/protos';
import { authnFilter, AUTHN_FILTER_NAME } from './edge-filters';

interface YamlHttpFilter {
  name: string;
  typed_config: Record<string, unknown>;
}

/** The front proxy's authn filter, as the dev stack and the e2e tests run it. */
function frontProxyAuthnFilter(): YamlHttpFilter {
  const yaml = renderEnvoyConfig('front-proxy', {
    LISTEN_HOST: '127.0.0.1',
    FRONT_PROXY_PORT: 1,
    ADMIN_PORT: 2,
    ECHO_PORT: 3,
    AUTHN_PROCESSOR_PORT: 4,
    IDEMPOTENCY_PROCESSOR_PORT: 5,
    LOGGING_PROCESSOR_PORT: 6,
    LOGGING_ACCESS_LOG_PORT: 7,
    LOGGING_DISABLED: false,
    LOGGING_OBSERVABILITY_MODE: true,
    CONSUMER_PORT: 8,
  });
  const doc = parse(yaml) as {
    static_resources: {
      listeners: {
        filter_chains: { filters: { typed_config: { http_filters: YamlHttpFilter[] } }[] }[];
      }[];
    };
  };
  const filters =
    doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters;
  const f = filters.find((x) => x.name === AUTHN_FILTER_NAME);
  if (f === undefined) throw new Error(`front-proxy.yaml has no ${AUTHN_FILTER_NAME}`);
  return f;
}

const seconds = (d: string) => Number(d.replace(/s$/, ''));
const headerMode = (m: string) =>
  extProcFilterMode.ProcessingMode_HeaderSendMode[m as 'SEND' | 'SKIP' | 'DEFAULT'];
const bodyMode = (m: string) =>
  extProcFilterMode.ProcessingMode_BodySendMode[m as 'NONE' | 'STREAMED' | 'BUFFERED'];

describe('authnFilter', () => {
  it("is the front proxy's authn filter (envoy/front-proxy.yaml): same name, mode, timeouts, attributes, namespaces", () => {
    const yaml = frontProxyAuthnFilter();
    const y = yaml.typed_config as {
      '@type': string;
      grpc_service: { timeout: string };
      failure_mode_allow: boolean;
      message_timeout: string;
      processing_mode: Record<string, string>;
      request_attributes: string[];
      metadata_options: { receiving_namespaces: { untyped: string[] } };
      [k: string]: unknown;
    };
    // Nothing in the front proxy's filter that this test does not compare.
    expect(Object.keys(y).sort()).toEqual(
      [
        '@type',
        'grpc_service',
        'failure_mode_allow',
        'message_timeout',
        'processing_mode',
        'request_attributes',
        'metadata_options',
      ].sort(),
    );
    const ours = authnFilter('c');
    expect(ours.name).toBe(yaml.name);
    if (ours.configType?.$case !== 'typedConfig') throw new Error('typed config expected');
    expect(ours.configType.value.typeUrl).toBe(`type.googleapis.com/${y['@type'].split('/')[1]}`);
    const cfg = extProcFilter.ExternalProcessor.decode(ours.configType.value.value);
    expect(cfg.failureModeAllow).toBe(y.failure_mode_allow);
    expect(cfg.failureModeAllow).toBe(false);
    expect(cfg.grpcService?.timeout?.seconds).toBe(seconds(y.grpc_service.timeout));
    expect(cfg.messageTimeout?.seconds).toBe(seconds(y.message_timeout));
    const pm = y.processing_mode;
    expect(cfg.processingMode).toMatchObject({
      requestHeaderMode: headerMode(pm.request_header_mode!),
      responseHeaderMode: headerMode(pm.response_header_mode!),
      requestBodyMode: bodyMode(pm.request_body_mode!),
      responseBodyMode: bodyMode(pm.response_body_mode!),
      requestTrailerMode: headerMode(pm.request_trailer_mode!),
      responseTrailerMode: headerMode(pm.response_trailer_mode!),
    });
    expect(cfg.requestAttributes).toEqual(y.request_attributes);
    expect(cfg.metadataOptions?.receivingNamespaces?.untyped).toEqual(
      y.metadata_options.receiving_namespaces.untyped,
    );
    expect(cfg.metadataOptions?.receivingNamespaces?.untyped).toEqual([
      AUTHN_DYNAMIC_METADATA_NAMESPACE,
    ]);
    expect(cfg.metadataOptions?.forwardingNamespaces).toBeUndefined();
  });
});
