import { AUTHN_DYNAMIC_METADATA_NAMESPACE } from '@edge/auth-contract';
import {
  basicAuthFilter,
  extProcFilter,
  extProcFilterMode,
  type httpConnectionManager,
} from '@edge/protos';
import { type EdgePolicy } from '../policy/edge-policy';
import { pack } from './any';
import { BASIC_AUTH_TYPE, EXT_PROC_TYPE } from './type-names';

type HttpFilter = httpConnectionManager.HttpFilter;
const { HeaderSendMode, BodySendMode } = {
  HeaderSendMode: extProcFilterMode.ProcessingMode_HeaderSendMode,
  BodySendMode: extProcFilterMode.ProcessingMode_BodySendMode,
};

/**
 * The names of the filters this extension owns in an HCM. The authn filter has the front
 * proxy's name (envoy/front-proxy.yaml), so both Envoys show the same stats and logs.
 */
export const AUTHN_FILTER_NAME = 'envoy.filters.http.ext_proc.authn';
export const BASIC_AUTH_FILTER_NAME = 'envoy.filters.http.basic_auth.edge';
export const MANAGED_FILTER_NAMES: ReadonlySet<string> = new Set([
  AUTHN_FILTER_NAME,
  BASIC_AUTH_FILTER_NAME,
]);

/** The route metadata attribute the authn processor reads its route policy from. */
export const ROUTE_METADATA_ATTRIBUTE = 'xds.route_metadata';

/**
 * The authn ext_proc filter, the same as the front proxy's (`envoy/front-proxy.yaml`,
 * `envoy.filters.http.ext_proc.authn`; a unit test holds the two equal): request headers only,
 * fail closed, the route's policy from `xds.route_metadata` (namespace `edge.authn.route`), the
 * verified identity back as dynamic metadata in `edge.authn`.
 */
export function authnFilter(clusterName: string): HttpFilter {
  const config: extProcFilter.ExternalProcessor = extProcFilter.ExternalProcessor.fromPartial({
    grpcService: {
      targetSpecifier: { $case: 'envoyGrpc', value: { clusterName } },
      timeout: { seconds: 2, nanos: 0 },
    },
    failureModeAllow: false,
    messageTimeout: { seconds: 1, nanos: 0 },
    processingMode: {
      requestHeaderMode: HeaderSendMode.SEND,
      responseHeaderMode: HeaderSendMode.SKIP,
      requestBodyMode: BodySendMode.NONE,
      responseBodyMode: BodySendMode.NONE,
      requestTrailerMode: HeaderSendMode.SKIP,
      responseTrailerMode: HeaderSendMode.SKIP,
    },
    requestAttributes: [ROUTE_METADATA_ATTRIBUTE],
    metadataOptions: {
      receivingNamespaces: { untyped: [AUTHN_DYNAMIC_METADATA_NAMESPACE], typed: [] },
    },
  });
  return {
    name: AUTHN_FILTER_NAME,
    configType: {
      $case: 'typedConfig',
      value: pack(EXT_PROC_TYPE, extProcFilter.ExternalProcessor, config),
    },
    isOptional: false,
    disabled: false,
  };
}

/** Envoy's basic_auth filter with the policy's htpasswd ({SHA}) users, one per line. */
export function basicAuthHttpFilter(
  users: readonly string[],
  forwardUsernameHeader = '',
): HttpFilter {
  const config = basicAuthFilter.BasicAuth.fromPartial({
    users: { specifier: { $case: 'inlineString', value: users.join('\n') } },
    forwardUsernameHeader,
  });
  return {
    name: BASIC_AUTH_FILTER_NAME,
    configType: {
      $case: 'typedConfig',
      value: pack(BASIC_AUTH_TYPE, basicAuthFilter.BasicAuth, config),
    },
    isOptional: false,
    disabled: false,
  };
}

/** The filters a policy asks for, in the order they run (none without a policy). */
export function edgeFilters(policy: EdgePolicy | undefined, authnCluster: string): HttpFilter[] {
  if (policy === undefined) return [];
  const out: HttpFilter[] = [];
  if (policy.spec.basicAuth !== undefined) {
    out.push(
      basicAuthHttpFilter(policy.spec.basicAuth.users, policy.spec.basicAuth.forwardUsernameHeader),
    );
  }
  if (policy.spec.authn !== undefined) out.push(authnFilter(authnCluster));
  return out;
}
