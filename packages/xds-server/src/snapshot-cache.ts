import { prepareOrThrow, type PreparedSnapshot } from './consistency';
import type { Snapshot } from './snapshot';
import { PUSH_ORDER, type TypeUrlValue } from './type-url';

type Watcher = (prepared: PreparedSnapshot) => void;

/**
 * Snapshots keyed by node id. `setSnapshot` encodes and checks a snapshot first (throwing a
 * `ConsistencyError` and publishing nothing when it is bad), then hands it to the node's open
 * streams, which push only the types whose version (a content hash) changed.
 */
export class SnapshotCache {
  private readonly snapshots = new Map<string, PreparedSnapshot>();
  private readonly watchers = new Map<string, Set<Watcher>>();

  setSnapshot(nodeId: string, s: Snapshot): { versions: Record<TypeUrlValue, string> } {
    const prepared = prepareOrThrow(s);
    this.snapshots.set(nodeId, prepared);
    for (const w of [...(this.watchers.get(nodeId) ?? [])]) w(prepared);
    return { versions: versionsOf(prepared) };
  }

  /** The snapshot as it was given, or undefined. */
  getSnapshot(nodeId: string): Snapshot | undefined {
    return this.snapshots.get(nodeId)?.source;
  }

  /** Per-type versions of a node's snapshot, or undefined. */
  getVersions(nodeId: string): Record<TypeUrlValue, string> | undefined {
    const p = this.snapshots.get(nodeId);
    return p ? versionsOf(p) : undefined;
  }

  /** Forgets a node's snapshot. Its open streams keep what they have (nothing is removed). */
  deleteSnapshot(nodeId: string): boolean {
    return this.snapshots.delete(nodeId);
  }

  nodeIds(): string[] {
    return [...this.snapshots.keys()];
  }

  /** @internal The encoded snapshot a stream serves. */
  prepared(nodeId: string): PreparedSnapshot | undefined {
    return this.snapshots.get(nodeId);
  }

  /** @internal Calls `w` with every snapshot set for `nodeId` from now on; returns the unsubscribe. */
  watch(nodeId: string, w: Watcher): () => void {
    let set = this.watchers.get(nodeId);
    if (!set) this.watchers.set(nodeId, (set = new Set()));
    set.add(w);
    return () => {
      set.delete(w);
      if (set.size === 0) this.watchers.delete(nodeId);
    };
  }
}

function versionsOf(p: PreparedSnapshot): Record<TypeUrlValue, string> {
  const out = {} as Record<TypeUrlValue, string>;
  for (const t of PUSH_ORDER) out[t] = p.types.get(t)?.version ?? '';
  return out;
}
