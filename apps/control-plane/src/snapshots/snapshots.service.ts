import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type XdsResources } from '@edge/envoy-config';
import {
  type ResourceJson,
  type Snapshot,
  SnapshotCache,
  TypeUrl,
  validateSnapshot,
} from '@edge/xds-server';
import { DataSource, type EntityManager } from 'typeorm';
import { invalidFields } from '../common/api-error';
import { RouteEntity, UpstreamEntity } from '../database/entities';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import { buildResources } from '../topology/snapshot-builder';
import { TopologyService } from '../topology/topology.service';
import { WasmStore } from '../wasm/wasm.store';

function named(list: Record<string, unknown>[], key: 'name' | 'cluster_name'): ResourceJson[] {
  return list.map((value) => ({ name: String(value[key]), value }));
}

/** XdsResources in the xDS server's snapshot shape (type URL → resources). */
export function toSnapshot(r: XdsResources): Snapshot {
  return {
    resources: {
      [TypeUrl.Listener]: named(r.listeners, 'name'),
      [TypeUrl.Route]: named(r.routes, 'name'),
      [TypeUrl.Cluster]: named(r.clusters, 'name'),
      [TypeUrl.Endpoint]: named(r.endpoints, 'cluster_name'),
      [TypeUrl.ExtensionConfig]: named(r.extensionConfigs, 'name'),
    },
  };
}

/**
 * Builds each node's snapshot from its template and what Postgres holds, checks it and publishes
 * it. Every change of a node runs `change()`: serialised per node, in one transaction, and the
 * transaction commits only if the new snapshot passes the consistency check, so nothing an Envoy
 * could not use is stored or sent.
 */
@Injectable()
export class SnapshotsService {
  private readonly logger = new Logger('Snapshots');
  private readonly queues = new Map<string, Promise<unknown>>();
  /** When each node's last snapshot was published (push latency is measured from here). */
  readonly publishedAt = new Map<string, number>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SnapshotCache) private readonly cache: SnapshotCache,
    @Inject(TopologyService) private readonly topology: TopologyService,
    @Inject(WasmStore) private readonly wasm: WasmStore,
    @Inject(ControlPlaneMetrics) private readonly metrics: ControlPlaneMetrics,
  ) {}

  /** At boot: every node's snapshot, before the xDS port opens. */
  async publishAll(): Promise<void> {
    for (const id of this.topology.ids()) {
      await this.change(id, () => Promise.resolve());
    }
  }

  /**
   * Runs `mutate` and publishes the node's new snapshot, atomically: if `mutate` throws or the
   * snapshot fails the consistency check (422 naming each resource and field), nothing changes.
   */
  async change<T>(nodeId: string, mutate: (em: EntityManager) => Promise<T>): Promise<T> {
    this.topology.node(nodeId); // 404 for an unknown node
    const prev = this.queues.get(nodeId) ?? Promise.resolve();
    const run = prev
      .catch(() => undefined)
      .then(async () => {
        const { result, snapshot } = await this.db.transaction(async (em) => {
          const result = await mutate(em);
          const snapshot = toSnapshot(await this.resources(em, nodeId));
          const issues = validateSnapshot(snapshot);
          if (issues.length > 0) {
            this.metrics.rejectedChanges.inc();
            throw invalidFields(
              422,
              issues.map((i) => ({
                field: `${i.typeUrl.split('.').at(-1) ?? i.typeUrl}/${i.name}: ${i.field}`,
                message: i.message,
              })),
            );
          }
          return { result, snapshot };
        });
        const t0 = performance.now();
        const { versions } = this.cache.setSnapshot(nodeId, snapshot);
        this.publishedAt.set(nodeId, Date.now());
        this.metrics.snapshotsPublished.inc({ node: nodeId });
        this.metrics.snapshotBuildSeconds.observe((performance.now() - t0) / 1000);
        this.logger.log(`node ${nodeId}: snapshot published ${JSON.stringify(versions)}`);
        return result;
      });
    this.queues.set(nodeId, run);
    return run;
  }

  /** The node's current resources (what its snapshot holds), from a transaction's view. */
  async resources(em: EntityManager, nodeId: string): Promise<XdsResources> {
    // One connection in a transaction: one query at a time.
    const upstreams = await em.find(UpstreamEntity, { where: { nodeId }, order: { name: 'ASC' } });
    const routes = await em.find(RouteEntity, { where: { nodeId }, order: { name: 'ASC' } });
    const module = await this.wasm.running(em, nodeId);
    return buildResources(this.topology.base(nodeId), upstreams, routes, module?.content);
  }

  current(nodeId: string): Snapshot | undefined {
    return this.cache.getSnapshot(nodeId);
  }
}
