import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { apiError, invalidFields } from '../common/api-error';
import { RouteEntity, UpstreamEntity } from '../database/entities';
import { SnapshotsService } from '../snapshots/snapshots.service';
import { upstreamProblems } from '../topology/snapshot-builder';
import { TopologyService } from '../topology/topology.service';
import { type CreateUpstreamDto, type UpstreamBodyDto, type UpstreamDto } from './upstreams.dto';

export function upstreamView(u: UpstreamEntity): UpstreamDto {
  return {
    nodeId: u.nodeId,
    name: u.name,
    endpoints: u.endpoints,
    connectTimeoutMs: u.connectTimeoutMs,
    updatedAt: u.updatedAt.toISOString(),
  };
}

const fields = (body: UpstreamBodyDto) => ({
  endpoints: body.endpoints.map((e) => ({ address: e.address, port: e.port })),
  connectTimeoutMs: body.connectTimeoutMs ?? 1_000,
});

@Injectable()
export class UpstreamsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SnapshotsService) private readonly snapshots: SnapshotsService,
    @Inject(TopologyService) private readonly topology: TopologyService,
  ) {}

  async list(nodeId: string): Promise<UpstreamDto[]> {
    this.topology.node(nodeId);
    const rows = await this.db.manager.find(UpstreamEntity, {
      where: { nodeId },
      order: { name: 'ASC' },
    });
    return rows.map(upstreamView);
  }

  async get(nodeId: string, name: string): Promise<UpstreamDto> {
    this.topology.node(nodeId);
    const row = await this.db.manager.findOneBy(UpstreamEntity, { nodeId, name });
    if (!row) throw apiError(404, 'UnknownUpstream No upstream of that name on this node');
    return upstreamView(row);
  }

  create(nodeId: string, body: CreateUpstreamDto): Promise<UpstreamDto> {
    return this.snapshots.change(nodeId, async (em) => {
      const row = em.create(UpstreamEntity, { nodeId, name: body.name, ...fields(body) });
      const problems = upstreamProblems(this.topology.base(nodeId), row);
      if (await em.existsBy(UpstreamEntity, { nodeId, name: body.name })) {
        problems.push({ field: 'name', message: 'an upstream of that name exists on this node' });
      }
      if (problems.length > 0) throw invalidFields(409, problems);
      return upstreamView(await em.save(row));
    });
  }

  replace(nodeId: string, name: string, body: UpstreamBodyDto): Promise<UpstreamDto> {
    return this.snapshots.change(nodeId, async (em) => {
      const row = await em.findOneBy(UpstreamEntity, { nodeId, name });
      if (!row) throw apiError(404, 'UnknownUpstream No upstream of that name on this node');
      Object.assign(row, fields(body));
      return upstreamView(await em.save(row));
    });
  }

  remove(nodeId: string, name: string): Promise<void> {
    return this.snapshots.change(nodeId, async (em) => {
      const users = await em.find(RouteEntity, { where: { nodeId, upstream: name } });
      if (users.length > 0) {
        throw invalidFields(409, [
          {
            field: 'name',
            message: `still used by route(s) ${users.map((r) => r.name).join(', ')}`,
          },
        ]);
      }
      const res = await em.delete(UpstreamEntity, { nodeId, name });
      if (!res.affected)
        throw apiError(404, 'UnknownUpstream No upstream of that name on this node');
    });
  }
}
