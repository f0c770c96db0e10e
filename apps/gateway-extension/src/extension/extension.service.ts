import { Inject, Injectable } from '@nestjs/common';
import { type egExtension } from '@edge/protos';
import {
  GATEWAY_EXTENSION_CONFIG,
  type GatewayExtensionConfig,
} from '../config/gateway-extension.config';
import { applyEdgePolicy } from '../hooks/listener.hook';
import { applyRoutePolicies } from '../hooks/route.hook';
import { withAuthnCluster } from '../hooks/translate.hook';
import { LOGGER, type Logger } from '../logging/logger';
import { GatewayExtensionMetrics } from '../metrics/gateway-extension.metrics';
import { effectiveEdgePolicy, readPolicies, type Rejection } from '../policy/policy-reader';

/**
 * The hooks' logic with its logging and metrics. Each method takes Envoy Gateway's request and
 * returns the response; bad resources are reported (log line, metric) and skipped, never
 * thrown. What throws is a broken xDS resource (an HCM that does not decode): the caller turns
 * that into a gRPC error, so Envoy Gateway keeps its last good config instead of programming a
 * listener without the policy.
 */
@Injectable()
export class ExtensionService {
  constructor(
    @Inject(GATEWAY_EXTENSION_CONFIG) private readonly config: GatewayExtensionConfig,
    @Inject(GatewayExtensionMetrics) private readonly metrics: GatewayExtensionMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private report(hook: string, rejected: readonly Rejection[]): void {
    for (const r of rejected) {
      this.metrics.rejectedResources.labels(r.kind, r.reason).inc();
      this.logger.warn(
        {
          event: 'resource_rejected',
          hook,
          kind: r.kind,
          namespace: r.namespace,
          name: r.name,
          reason: r.reason,
          message: r.message,
        },
        `${r.kind} ${r.namespace}/${r.name} not used: ${r.reason}`,
      );
    }
  }

  postHttpListenerModify(
    req: egExtension.PostHTTPListenerModifyRequest,
  ): egExtension.PostHTTPListenerModifyResponse {
    const listener = req.listener;
    if (listener === undefined) return { listener: undefined };
    const read = readPolicies(
      req.postListenerContext?.extensionResources ?? [],
      this.config.MAX_RESOURCE_BYTES,
    );
    const { policy, conflicted } = effectiveEdgePolicy(read.edgePolicies);
    this.report('PostHTTPListenerModify', [...read.rejected, ...conflicted]);
    const out = applyEdgePolicy(listener, policy, this.config.AUTHN_CLUSTER_NAME);
    const result = out.hcms === 0 ? 'no_hcm' : out.changed > 0 ? 'modified' : 'unchanged';
    this.metrics.listeners.labels(result).inc();
    const fields = {
      event: 'listener',
      listener: listener.name,
      result,
      policy: policy ? `${policy.metadata.namespace}/${policy.metadata.name}` : undefined,
      hcms: out.hcms,
      changed: out.changed,
    };
    if (out.hcms === 0) {
      this.logger.info(
        fields,
        `listener ${listener.name} has no HTTP connection manager: untouched`,
      );
    } else {
      this.logger.debug(fields, `listener ${listener.name}: ${result}`);
    }
    if (out.withoutRouter > 0) {
      this.logger.warn(
        { event: 'no_router', listener: listener.name, hcms: out.withoutRouter },
        'HTTP connection manager without a router filter: edge filters placed first',
      );
    }
    return { listener: out.listener };
  }

  postRouteModify(req: egExtension.PostRouteModifyRequest): egExtension.PostRouteModifyResponse {
    const route = req.route;
    if (route === undefined) return { route: undefined };
    const read = readPolicies(
      req.postRouteContext?.extensionResources ?? [],
      this.config.MAX_RESOURCE_BYTES,
    );
    // A route gets EdgeRoutePolicies; an EdgePolicy here (a misplaced ExtensionRef) is unused.
    const misplaced: Rejection[] = read.edgePolicies.map((p) => ({
      kind: p.kind,
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      reason: 'Unsupported',
      message: 'an EdgePolicy targets a Gateway; routes take an EdgeRoutePolicy',
    }));
    this.report('PostRouteModify', [...read.rejected, ...misplaced]);
    this.logger.debug(
      { event: 'route', route: route.name, policies: read.routePolicies.length },
      `route ${route.name}`,
    );
    return { route: applyRoutePolicies(route, read.routePolicies) };
  }

  postTranslateModify(
    req: egExtension.PostTranslateModifyRequest,
  ): egExtension.PostTranslateModifyResponse {
    const { clusters, added } = withAuthnCluster(req.clusters, {
      name: this.config.AUTHN_CLUSTER_NAME,
      host: this.config.AUTHN_PROCESSOR_HOST,
      port: this.config.AUTHN_PROCESSOR_PORT,
    });
    if (added) {
      this.logger.debug(
        { event: 'cluster_added', cluster: this.config.AUTHN_CLUSTER_NAME },
        'authn processor cluster added',
      );
    }
    // Envoy Gateway replaces each kind it sent with what comes back: everything returns.
    return {
      clusters,
      secrets: req.secrets,
      listeners: req.listeners,
      routes: req.routes,
    };
  }
}
