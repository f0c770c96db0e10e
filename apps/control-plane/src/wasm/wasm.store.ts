import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { type EnvoyJson } from '@edge/envoy-config';
import { type EntityManager } from 'typeorm';
import { WasmModuleEntity, WasmRolloutEntity } from '../database/entities';
import { TopologyService } from '../topology/topology.service';

/** A module a node runs: an uploaded version or the built-in one its template names. */
export interface RunningModule {
  version: string;
  sha256: string;
  moduleId: string | null;
  content: Buffer;
}

/** The built-in module's pseudo version (the file the node's template names). */
export const BUILTIN_VERSION = 'builtin';

/** Reads Wasm modules and each node's rollout history (no publishing: see WasmService). */
@Injectable()
export class WasmStore {
  private readonly builtin = new Map<string, RunningModule>();
  /** Module contents by id (immutable once uploaded). */
  private readonly contents = new Map<string, Buffer>();

  constructor(@Inject(TopologyService) private readonly topology: TopologyService) {}

  /** The module the node's template names (read once; the control plane inlines it over ECDS). */
  builtinModule(nodeId: string): RunningModule | undefined {
    const cached = this.builtin.get(nodeId);
    if (cached) return cached;
    const ext = this.topology.base(nodeId).extensionConfigs[0];
    const config = (ext?.typed_config as EnvoyJson | undefined)?.config as EnvoyJson | undefined;
    const code = (config?.vm_config as EnvoyJson | undefined)?.code as EnvoyJson | undefined;
    const file = (code?.local as EnvoyJson | undefined)?.filename;
    if (typeof file !== 'string') return undefined;
    const content = readFileSync(file);
    const m: RunningModule = {
      version: BUILTIN_VERSION,
      sha256: createHash('sha256').update(content).digest('hex'),
      moduleId: null,
      content,
    };
    this.builtin.set(nodeId, m);
    return m;
  }

  /** The node's module stack, oldest first: rollouts push, rollbacks pop. null = built-in. */
  async stack(em: EntityManager, nodeId: string): Promise<(string | null)[]> {
    const rows = await em.find(WasmRolloutEntity, { where: { nodeId }, order: { id: 'ASC' } });
    const stack: (string | null)[] = [null];
    for (const r of rows) {
      if (r.action === 'rollout') stack.push(r.moduleId);
      else if (stack.length > 1) stack.pop();
    }
    return stack;
  }

  async running(em: EntityManager, nodeId: string): Promise<RunningModule | undefined> {
    if (!this.topology.hasWasmFilter(nodeId)) return undefined;
    const top = (await this.stack(em, nodeId)).at(-1) ?? null;
    if (top === null) return this.builtinModule(nodeId);
    const meta = await em.findOneByOrFail(WasmModuleEntity, { id: top });
    return {
      version: meta.version,
      sha256: meta.sha256,
      moduleId: meta.id,
      content: await this.content(em, top),
    };
  }

  private async content(em: EntityManager, id: string): Promise<Buffer> {
    const cached = this.contents.get(id);
    if (cached) return cached;
    const row = await em
      .createQueryBuilder(WasmModuleEntity, 'm')
      .addSelect('m.content')
      .where('m.id = :id', { id })
      .getOneOrFail();
    this.contents.set(id, row.content);
    return row.content;
  }
}
