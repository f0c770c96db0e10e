import { Inject, Injectable } from '@nestjs/common';
import { nodeXdsResources, type TopologyNode, type XdsResources } from '@edge/envoy-config';
import { apiError } from '../common/api-error';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '../config/control-plane.config';
import { hasWasmFilter } from './snapshot-builder';

/** The nodes of the topology and their template resources (rendered once, at boot). */
@Injectable()
export class TopologyService {
  private readonly nodes = new Map<string, { node: TopologyNode; base: XdsResources }>();

  constructor(@Inject(CONTROL_PLANE_CONFIG) config: Pick<ControlPlaneConfig, 'nodes'>) {
    for (const node of config.nodes) {
      this.nodes.set(node.id, { node, base: nodeXdsResources(node) });
    }
  }

  ids(): string[] {
    return [...this.nodes.keys()];
  }

  node(id: string): TopologyNode {
    return this.get(id).node;
  }

  /** The node's resources as its template describes them (callers must not mutate them). */
  base(id: string): XdsResources {
    return this.get(id).base;
  }

  hasWasmFilter(id: string): boolean {
    return hasWasmFilter(this.get(id).base);
  }

  /** 404 JSON for a node the topology does not name. */
  private get(id: string): { node: TopologyNode; base: XdsResources } {
    const n = this.nodes.get(id);
    if (!n) throw apiError(404, 'UnknownNode No node of that id in the topology');
    return n;
  }
}
