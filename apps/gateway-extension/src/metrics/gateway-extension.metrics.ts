import { Counter, Histogram, type Registry } from 'prom-client';

export type HookName =
  | 'PostHTTPListenerModify'
  | 'PostRouteModify'
  | 'PostTranslateModify'
  | 'PostVirtualHostModify'
  | 'PostClusterModify';

/** The extension's Prometheus metrics: hook calls, latency, errors, refused resources. */
export class GatewayExtensionMetrics {
  readonly hookCalls: Counter<'hook' | 'outcome'>;
  readonly hookDuration: Histogram<'hook'>;
  readonly rejectedResources: Counter<'kind' | 'reason'>;
  readonly listeners: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.hookCalls = new Counter({
      name: 'gateway_extension_hook_calls_total',
      help: 'Hook calls from Envoy Gateway, by hook and outcome (ok, error)',
      labelNames: ['hook', 'outcome'],
      registers,
    });
    this.hookDuration = new Histogram({
      name: 'gateway_extension_hook_duration_seconds',
      help: 'Time to answer one hook call',
      labelNames: ['hook'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.rejectedResources = new Counter({
      name: 'gateway_extension_rejected_resources_total',
      help: 'Extension resources not used, by kind and reason (Invalid, Unsupported, Conflicted)',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.listeners = new Counter({
      name: 'gateway_extension_listeners_total',
      help: 'Listeners seen by PostHTTPListenerModify, by result (modified, unchanged, no_hcm)',
      labelNames: ['result'],
      registers,
    });
  }
}
