import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export interface EndpointAddress {
  address: string;
  port: number;
}

/** An upstream added through the admin API: one EDS cluster of one node. */
@Entity({ name: 'xds_upstreams' })
export class UpstreamEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'node_id', type: 'text' })
  nodeId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'jsonb' })
  endpoints!: EndpointAddress[];

  @Column({ name: 'connect_timeout_ms', type: 'integer' })
  connectTimeoutMs!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A route added through the admin API: a path prefix of one node to an upstream, with scopes. */
@Entity({ name: 'xds_routes' })
export class RouteEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'node_id', type: 'text' })
  nodeId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'path_prefix', type: 'text' })
  pathPrefix!: string;

  @Column({ type: 'text' })
  upstream!: string;

  @Column({ name: 'required_scopes', type: 'text', array: true })
  requiredScopes!: string[];

  @Column({ name: 'timeout_ms', type: 'integer' })
  timeoutMs!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** An uploaded Wasm module version (bytes in Postgres: the control plane inlines them over ECDS). */
@Entity({ name: 'xds_wasm_modules' })
export class WasmModuleEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  version!: string;

  @Column({ type: 'text' })
  sha256!: string;

  @Column({ name: 'size_bytes', type: 'integer' })
  sizeBytes!: number;

  @Column({ type: 'bytea', select: false })
  content!: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

/**
 * One step of a node's Wasm history: a rollout or rollback to a module (null: the built-in module
 * the topology names). The latest row is what the node runs.
 */
@Entity({ name: 'xds_wasm_rollouts' })
export class WasmRolloutEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'node_id', type: 'text' })
  nodeId!: string;

  @Column({ name: 'module_id', type: 'uuid', nullable: true })
  moduleId!: string | null;

  @Column({ type: 'text' })
  action!: 'rollout' | 'rollback';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

export const ENTITIES = [UpstreamEntity, RouteEntity, WasmModuleEntity, WasmRolloutEntity];
