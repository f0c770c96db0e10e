import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { apiError, invalidFields } from '../common/api-error';
import { RouteEntity, UpstreamEntity } from '../database/entities';
import { SnapshotsService } from '../snapshots/snapshots.service';
import { routeProblems } from '../topology/snapshot-builder';
import { TopologyService } from '../topology/topology.service';
import { type CreateRouteDto, type RouteBodyDto, type RouteDto } from './routes.dto';

export function routeView(r: RouteEntity): RouteDto {
  return {
    nodeId: r.nodeId,
    name: r.name,
    pathPrefix: r.pathPrefix,
    upstream: r.upstream,
    requiredScopes: r.requiredScopes,
    timeoutMs: r.timeoutMs,
    updatedAt: r.updatedAt.toISOString(),
  };
}

@Injectable()
export class RoutesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SnapshotsService) private readonly snapshots: SnapshotsService,
    @Inject(TopologyService) private readonly topology: TopologyService,
  ) {}

  async list(nodeId: string): Promise<RouteDto[]> {
    this.topology.node(nodeId);
    const rows = await this.db.manager.find(RouteEntity, {
      where: { nodeId },
      order: { name: 'ASC' },
    });
    return rows.map(routeView);
  }

  async get(nodeId: string, name: string): Promise<RouteDto> {
    this.topology.node(nodeId);
    const row = await this.db.manager.findOneBy(RouteEntity, { nodeId, name });
    if (!row) throw apiError(404, 'UnknownRoute No route of that name on this node');
    return routeView(row);
  }

  create(nodeId: string, body: CreateRouteDto): Promise<RouteDto> {
    return this.snapshots.change(nodeId, async (em) => {
      if (await em.existsBy(RouteEntity, { nodeId, name: body.name })) {
        throw invalidFields(409, [
          { field: 'name', message: 'a route of that name exists on this node' },
        ]);
      }
      const row = em.create(RouteEntity, { nodeId, name: body.name, ...this.fields(body) });
      await this.check(em, row, undefined);
      return routeView(await em.save(row));
    });
  }

  replace(nodeId: string, name: string, body: RouteBodyDto): Promise<RouteDto> {
    return this.snapshots.change(nodeId, async (em) => {
      const row = await em.findOneBy(RouteEntity, { nodeId, name });
      if (!row) throw apiError(404, 'UnknownRoute No route of that name on this node');
      Object.assign(row, this.fields(body));
      await this.check(em, row, row.id);
      return routeView(await em.save(row));
    });
  }

  remove(nodeId: string, name: string): Promise<void> {
    return this.snapshots.change(nodeId, async (em) => {
      const res = await em.delete(RouteEntity, { nodeId, name });
      if (!res.affected) throw apiError(404, 'UnknownRoute No route of that name on this node');
    });
  }

  private fields(body: RouteBodyDto) {
    return {
      pathPrefix: body.pathPrefix,
      upstream: body.upstream,
      requiredScopes: [...new Set(body.requiredScopes ?? [])].sort(),
      timeoutMs: body.timeoutMs ?? 15_000,
    };
  }

  private async check(em: EntityManager, row: RouteEntity, id: string | undefined): Promise<void> {
    const upstreams = await em.find(UpstreamEntity, { where: { nodeId: row.nodeId } });
    const problems = routeProblems(
      this.topology.base(row.nodeId),
      row,
      upstreams.map((u) => u.name),
    );
    const clash = await em.findOneBy(RouteEntity, {
      nodeId: row.nodeId,
      pathPrefix: row.pathPrefix,
    });
    if (clash && clash.id !== id) {
      problems.push({ field: 'pathPrefix', message: `route ${clash.name} has the same prefix` });
    }
    if (problems.length > 0) {
      throw invalidFields(problems.some((p) => p.field === 'name') ? 409 : 400, problems);
    }
  }
}
