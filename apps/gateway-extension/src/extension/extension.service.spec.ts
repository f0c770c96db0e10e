import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AUTHN_ROUTE_METADATA_NAMESPACE } from '@edge/auth-contract';
import { envoyRouteComponents } from '@edge/protos';
import { loadGatewayExtensionConfig } from '../config/gateway-extension.config';
import { type Logger } from '../logging/logger';
import { GatewayExtensionMetrics } from '../metrics/gateway-extension.metrics';
import {
  edgePolicy,
  edgeRoutePolicy,
  httpFiltersOf,
  listener,
  resource,
  routerHttpFilter,
  tcpListener,
} from '../testing/xds-fixtures';
import { AUTHN_FILTER_NAME } from '../xds/edge-filters';
import { ExtensionService } from './extension.service';

function setup() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const log =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, fields, msg });
    };
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  const registry = new Registry();
  const metrics = new GatewayExtensionMetrics(registry);
  const svc = new ExtensionService(loadGatewayExtensionConfig({}), metrics, logger);
  return { svc, lines, registry };
}

describe('ExtensionService', () => {
  it('applies the valid policy, reports the bad ones (log + metric) and never throws for them', async () => {
    const { svc, lines, registry } = setup();
    const res = svc.postHttpListenerModify({
      listener: listener({ chains: [[routerHttpFilter()]] }),
      postListenerContext: {
        extensionResources: [
          { unstructuredBytes: Buffer.from('garbage') },
          resource(edgePolicy('bad', { basicAuth: { users: ['alice:plain'] } })),
          resource(edgePolicy('good', { authn: {} })),
        ],
      },
    });
    expect(httpFiltersOf(res.listener!)[0]!.map((f) => f.name)).toEqual([
      AUTHN_FILTER_NAME,
      'envoy.filters.http.router',
    ]);
    const warned = lines.filter((l) => l.fields.event === 'resource_rejected');
    expect(warned.map((l) => [l.fields.name, l.fields.reason])).toEqual([
      ['?', 'Invalid'],
      ['bad', 'Invalid'],
    ]);
    expect(JSON.stringify(lines)).not.toContain('alice:plain');
    const metrics = await registry.metrics();
    expect(metrics).toContain(
      'gateway_extension_rejected_resources_total{kind="EdgePolicy",reason="Invalid"} 1',
    );
    expect(metrics).toContain('gateway_extension_listeners_total{result="modified"} 1');
  });

  it('logs a listener without an HCM and returns it untouched', () => {
    const { svc, lines } = setup();
    const l = tcpListener();
    expect(
      svc.postHttpListenerModify({ listener: l, postListenerContext: undefined }).listener,
    ).toBe(l);
    expect(lines.some((x) => x.level === 'info' && x.fields.result === 'no_hcm')).toBe(true);
  });

  it('PostRouteModify: route metadata from an EdgeRoutePolicy; a misplaced EdgePolicy is reported', () => {
    const { svc, lines } = setup();
    const res = svc.postRouteModify({
      route: envoyRouteComponents.Route.fromPartial({ name: 'r' }),
      postRouteContext: {
        hostnames: ['www.example.com'],
        extensionResources: [
          resource(edgeRoutePolicy('scopes', { requiredScopes: ['orders:write'] })),
          resource(edgePolicy('gw', { authn: {} })),
        ],
      },
    });
    expect(res.route?.metadata?.filterMetadata[AUTHN_ROUTE_METADATA_NAMESPACE]).toEqual({
      required_scopes: ['orders:write'],
    });
    expect(lines.find((l) => l.fields.event === 'resource_rejected')?.fields.reason).toBe(
      'Unsupported',
    );
  });

  it('PostTranslateModify returns every resource it was given, plus the authn cluster', () => {
    const { svc } = setup();
    const res = svc.postTranslateModify({
      postTranslateContext: { extensionResources: [] },
      clusters: [{ name: 'eg' } as never],
      secrets: [{ name: 's' } as never],
      listeners: [],
      routes: [],
    });
    expect(res.clusters.map((c) => c.name)).toEqual(['eg', 'edge_authn_processor']);
    expect(res.secrets.map((s) => s.name)).toEqual(['s']);
  });
});
