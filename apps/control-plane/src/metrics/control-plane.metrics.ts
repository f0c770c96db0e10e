import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The control plane's own metrics. The xDS server registers its protocol metrics (pushes per
 * type, push latency, ACKs/NACKs, connected streams) on the same registry.
 */
@Injectable()
export class ControlPlaneMetrics {
  readonly snapshotsPublished: Counter<'node'>;
  readonly snapshotBuildSeconds: Histogram;
  readonly rejectedChanges: Counter;
  readonly adminChanges: Counter<'kind' | 'outcome'>;
  readonly ackLatency: Histogram<'type'>;
  /** Per node and type: the version last ACKed (a new one is observed once). */
  private readonly lastAcked = new Map<string, string>();

  constructor(@Inject(Registry) registry: Registry) {
    const registers = [registry];
    collectDefaultMetrics({ register: registry });
    this.snapshotsPublished = new Counter({
      name: 'control_plane_snapshots_published_total',
      help: 'Snapshots published to the xDS cache, per node',
      labelNames: ['node'],
      registers,
    });
    this.snapshotBuildSeconds = new Histogram({
      name: 'control_plane_snapshot_set_seconds',
      help: 'Time to hand a checked snapshot to the xDS cache',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers,
    });
    this.rejectedChanges = new Counter({
      name: 'control_plane_changes_rejected_total',
      help: 'Admin changes refused by the snapshot consistency check (never published)',
      registers,
    });
    this.adminChanges = new Counter({
      name: 'control_plane_admin_changes_total',
      help: 'Admin API changes, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: 'control_plane_publish_to_ack_seconds',
      help: 'From a snapshot publish to the Envoy ACKing that version, per resource type',
      labelNames: ['type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  /** An ACK of a new version: the time since the snapshot was published (what a change costs). */
  observeAck(node: string, typeUrl: string, version: string, publishedAt: number): void {
    const key = `${node}|${typeUrl}`;
    if (this.lastAcked.get(key) === version) return;
    this.lastAcked.set(key, version);
    const seconds = (Date.now() - publishedAt) / 1000;
    if (seconds < 60)
      this.ackLatency.observe({ type: typeUrl.slice(typeUrl.lastIndexOf('.') + 1) }, seconds);
  }
}
