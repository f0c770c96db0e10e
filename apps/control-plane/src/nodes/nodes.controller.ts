import { Controller, Get, Inject, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard';
import { SnapshotsService } from '../snapshots/snapshots.service';
import { TopologyService } from '../topology/topology.service';
import { XdsService } from '../xds/xds.service';

@ApiTags('nodes')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('nodes')
export class NodesController {
  constructor(
    @Inject(TopologyService) private readonly topology: TopologyService,
    @Inject(SnapshotsService) private readonly snapshots: SnapshotsService,
    @Inject(XdsService) private readonly xds: XdsService,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Every node of the topology: connected streams, the version each has ACKed per type, its last NACK and error',
  })
  list() {
    return this.topology.ids().map((id) => this.view(id));
  }

  @Get(':nodeId')
  @ApiOperation({ summary: 'One node: its status and the names of the resources it is served' })
  get(@Param('nodeId') nodeId: string) {
    this.topology.node(nodeId);
    const snapshot = this.snapshots.current(nodeId);
    const resources = Object.fromEntries(
      Object.entries(snapshot?.resources ?? {}).map(([t, list]) => [t, list.map((r) => r.name)]),
    );
    return { ...this.view(nodeId), resources };
  }

  private view(id: string) {
    const node = this.topology.node(id);
    const status = this.xds.server.status().find((s) => s.id === id);
    const open = status ? status.streams.sotw + status.streams.delta : 0;
    const refused = this.xds.server.recentRefusals().filter((r) => r.node.id === id);
    const last = refused.at(-1);
    return {
      id,
      cluster: node.cluster,
      config: node.config,
      connected: open > 0,
      // Streams, ACKed version per type, last NACK with Envoy's error, pending types.
      status: status ?? null,
      // The last stream refused for this node id (e.g. a certificate of another node claiming it).
      lastRefusal: last
        ? {
            at: last.at,
            kind: last.kind,
            peer: last.peer,
            reason: last.refusal,
            message: last.message,
          }
        : null,
    };
  }
}
