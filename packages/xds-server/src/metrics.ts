import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AckEvent, NackEvent, PushEvent, RefusalKind, StreamKind } from './events';
import { TYPE_SHORT } from './type-url';

const REFUSAL_KINDS: readonly RefusalKind[] = [
  'no_node_id',
  'unauthorized',
  'authorizer_error',
  'node_changed',
];

/**
 * Prometheus metrics of an xDS server, on the registry the caller passes:
 * pushes, ACKs and NACKs per type, push→ACK latency per type, open streams per kind, refused
 * streams per reason.
 */
export class XdsMetrics {
  private readonly pushes: Counter<'type'>;
  private readonly acks: Counter<'type'>;
  private readonly nacks: Counter<'type'>;
  private readonly ackLatency: Histogram<'type'>;
  private readonly streams: Gauge<'kind'>;
  private readonly refusals: Counter<'reason'>;

  constructor(registry: Registry, prefix = 'xds_') {
    const registers = [registry];
    this.pushes = new Counter({
      name: `${prefix}pushes_total`,
      help: 'Discovery responses sent, per resource type',
      labelNames: ['type'],
      registers,
    });
    this.acks = new Counter({
      name: `${prefix}acks_total`,
      help: 'Discovery responses ACKed, per resource type',
      labelNames: ['type'],
      registers,
    });
    this.nacks = new Counter({
      name: `${prefix}nacks_total`,
      help: 'Discovery responses NACKed (rejected by Envoy), per resource type',
      labelNames: ['type'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: `${prefix}push_ack_seconds`,
      help: 'From a discovery response to its ACK or NACK, per resource type',
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.streams = new Gauge({
      name: `${prefix}streams`,
      help: 'Open ADS streams, per kind (sotw, delta)',
      labelNames: ['kind'],
      registers,
    });
    this.refusals = new Counter({
      name: `${prefix}refused_streams_total`,
      help: 'ADS streams refused before serving a node (reason: no_node_id, unauthorized, authorizer_error, node_changed)',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of REFUSAL_KINDS) this.refusals.inc({ reason }, 0);
    this.streams.set({ kind: 'sotw' }, 0);
    this.streams.set({ kind: 'delta' }, 0);
  }

  pushed(e: PushEvent): void {
    this.pushes.inc({ type: TYPE_SHORT[e.typeUrl] });
  }

  acked(e: AckEvent): void {
    this.acks.inc({ type: TYPE_SHORT[e.typeUrl] });
    this.ackLatency.observe({ type: TYPE_SHORT[e.typeUrl] }, e.latencyMs / 1000);
  }

  nacked(e: NackEvent): void {
    this.nacks.inc({ type: TYPE_SHORT[e.typeUrl] });
    this.ackLatency.observe({ type: TYPE_SHORT[e.typeUrl] }, e.latencyMs / 1000);
  }

  refused(reason: RefusalKind): void {
    this.refusals.inc({ reason });
  }

  streamOpened(kind: StreamKind): void {
    this.streams.inc({ kind });
  }

  streamClosed(kind: StreamKind): void {
    this.streams.dec({ kind });
  }
}
