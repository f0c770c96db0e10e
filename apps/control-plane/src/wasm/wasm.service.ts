import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In } from 'typeorm';
import { invalidFields } from '../common/api-error';
import { WasmModuleEntity, WasmRolloutEntity } from '../database/entities';
import { SnapshotsService } from '../snapshots/snapshots.service';
import { TopologyService } from '../topology/topology.service';
import { type NodeWasmDto, type WasmModuleDto } from './wasm.dto';
import { BUILTIN_VERSION, WasmStore } from './wasm.store';

/** The runtime's WebAssembly (not in the TS lib this project builds with). */
const wasmRuntime = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } })
  .WebAssembly;

const view = (m: WasmModuleEntity): WasmModuleDto => ({
  version: m.version,
  sha256: m.sha256,
  sizeBytes: m.sizeBytes,
  createdAt: m.createdAt.toISOString(),
});

/** Uploads (checksum-verified), rollouts to chosen nodes and rollbacks, each published over ECDS. */
@Injectable()
export class WasmService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SnapshotsService) private readonly snapshots: SnapshotsService,
    @Inject(TopologyService) private readonly topology: TopologyService,
    @Inject(WasmStore) private readonly store: WasmStore,
  ) {}

  async list(): Promise<WasmModuleDto[]> {
    const rows = await this.db.manager.find(WasmModuleEntity, { order: { createdAt: 'ASC' } });
    return rows.map(view);
  }

  async upload(version: string, sha256: string, body: unknown): Promise<WasmModuleDto> {
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw invalidFields(400, [
        { field: 'body', message: 'send the module as the body, Content-Type: application/wasm' },
      ]);
    }
    const actual = createHash('sha256').update(body).digest('hex');
    if (actual !== sha256) {
      throw invalidFields(400, [{ field: 'sha256', message: 'does not match the body' }]);
    }
    if (!wasmRuntime.validate(body)) {
      throw invalidFields(400, [{ field: 'body', message: 'not a valid WebAssembly module' }]);
    }
    if (version === BUILTIN_VERSION) {
      throw invalidFields(409, [{ field: 'version', message: 'reserved' }]);
    }
    return this.db.transaction(async (em) => {
      if (await em.existsBy(WasmModuleEntity, { version })) {
        throw invalidFields(409, [{ field: 'version', message: 'already uploaded' }]);
      }
      const row = em.create(WasmModuleEntity, {
        version,
        sha256,
        sizeBytes: body.length,
        content: body,
      });
      return view(await em.save(row));
    });
  }

  async rollout(version: string, nodes: string[]): Promise<NodeWasmDto[]> {
    this.checkNodes(nodes);
    const module = await this.db.manager.findOneBy(WasmModuleEntity, { version });
    if (!module)
      throw invalidFields(404, [{ field: 'version', message: 'no module of that version' }]);
    const out: NodeWasmDto[] = [];
    for (const nodeId of nodes) {
      out.push(
        await this.snapshots.change(nodeId, async (em) => {
          await em.insert(WasmRolloutEntity, { nodeId, moduleId: module.id, action: 'rollout' });
          return this.nodeView(em, nodeId);
        }),
      );
    }
    return out;
  }

  async rollback(nodes: string[]): Promise<NodeWasmDto[]> {
    this.checkNodes(nodes);
    const out: NodeWasmDto[] = [];
    for (const nodeId of nodes) {
      out.push(
        await this.snapshots.change(nodeId, async (em) => {
          const stack = await this.store.stack(em, nodeId);
          if (stack.length < 2) {
            throw invalidFields(409, [
              {
                field: 'nodes',
                message: `${nodeId} runs the built-in module: nothing to roll back`,
              },
            ]);
          }
          await em.insert(WasmRolloutEntity, {
            nodeId,
            moduleId: stack.at(-2) ?? null,
            action: 'rollback',
          });
          return this.nodeView(em, nodeId);
        }),
      );
    }
    return out;
  }

  node(nodeId: string): Promise<NodeWasmDto> {
    this.checkNodes([nodeId]);
    return this.nodeView(this.db.manager, nodeId);
  }

  private async nodeView(em: EntityManager, nodeId: string): Promise<NodeWasmDto> {
    const running = await this.store.running(em, nodeId);
    const stack = await this.store.stack(em, nodeId);
    const ids = stack.slice(0, -1).filter((x): x is string => x !== null);
    const rows = ids.length > 0 ? await em.findBy(WasmModuleEntity, { id: In(ids) }) : [];
    const versionOf = new Map(rows.map((r) => [r.id, r.version]));
    return {
      nodeId,
      version: running?.version ?? BUILTIN_VERSION,
      sha256: running?.sha256 ?? '',
      previous: stack
        .slice(0, -1)
        .reverse()
        .map((id) => (id === null ? BUILTIN_VERSION : (versionOf.get(id) ?? id))),
    };
  }

  private checkNodes(nodes: string[]): void {
    const problems = nodes
      .filter((n) => !this.topology.ids().includes(n) || !this.topology.hasWasmFilter(n))
      .map((n) => ({ field: 'nodes', message: `${n} is not a node with a Wasm filter` }));
    if (problems.length > 0) throw invalidFields(404, problems);
    if (new Set(nodes).size !== nodes.length) {
      throw invalidFields(400, [{ field: 'nodes', message: 'a node is listed twice' }]);
    }
  }
}
