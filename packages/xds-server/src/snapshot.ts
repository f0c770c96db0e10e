import type { TypeUrlValue } from './type-url';

/** One resource in Envoy's own JSON form (as in a bootstrap's static_resources, `@type` on Any). */
export interface ResourceJson {
  /** The resource name (Listener/Cluster/RouteConfiguration/TypedExtensionConfig `name`, ClusterLoadAssignment `cluster_name`). */
  name: string;
  value: Record<string, unknown>;
}

/** What one node should have. A type left out is served as empty (its resources removed). */
export interface Snapshot {
  resources: Partial<Record<TypeUrlValue, ResourceJson[]>>;
}

/** One problem with a snapshot: the resource, the field, what is wrong. */
export interface ConsistencyIssue {
  typeUrl: TypeUrlValue;
  name: string;
  field: string;
  message: string;
}

/** Thrown by `SnapshotCache.setSnapshot` when a snapshot does not encode or is inconsistent. */
export class ConsistencyError extends Error {
  constructor(readonly issues: ConsistencyIssue[]) {
    super(
      `snapshot rejected: ${issues
        .map(
          (i) =>
            `${i.typeUrl.slice(i.typeUrl.lastIndexOf('.') + 1)} "${i.name}" ${i.field}: ${i.message}`,
        )
        .join('; ')}`,
    );
    this.name = 'ConsistencyError';
  }
}
