import { type egExtensionContext } from '@edge/protos';
import { z } from '@edge/service-config';
import {
  EDGE_POLICY_KIND,
  EDGE_ROUTE_POLICY_KIND,
  type EdgePolicy,
  edgePolicySchema,
  type EdgeRoutePolicy,
  edgeRoutePolicySchema,
} from './edge-policy';

/** A resource that was not used, and why (logged and counted; never fails a hook). */
export interface Rejection {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `Invalid` (bad JSON, schema), `Unsupported` (another kind), `Conflicted` (another wins). */
  readonly reason: 'Invalid' | 'Unsupported' | 'Conflicted';
  readonly message: string;
}

export interface ReadPolicies {
  readonly edgePolicies: readonly EdgePolicy[];
  readonly routePolicies: readonly EdgeRoutePolicy[];
  readonly rejected: readonly Rejection[];
}

const headerSchema = z
  .object({
    kind: z.string().max(253).optional(),
    metadata: z
      .object({ name: z.string().max(253).optional(), namespace: z.string().max(253).optional() })
      .passthrough()
      .optional(),
  })
  .passthrough();

function describe(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(resource)'}: ${i.message}`)
    .join('; ');
}

/**
 * Reads the extension resources Envoy Gateway passed along (`unstructured_bytes`: the JSON of
 * a Kubernetes object). Every resource is either used or rejected with a reason; nothing here
 * throws, so a bad resource never fails the hook (a failed hook would stop Envoy Gateway from
 * programming Envoy at all).
 */
export function readPolicies(
  resources: readonly egExtensionContext.ExtensionResource[],
  maxBytes: number,
): ReadPolicies {
  const edgePolicies: EdgePolicy[] = [];
  const routePolicies: EdgeRoutePolicy[] = [];
  const rejected: Rejection[] = [];
  for (const r of resources) {
    const bytes = r.unstructuredBytes;
    const unknown = { kind: '?', namespace: '?', name: '?' };
    if (bytes.length > maxBytes) {
      rejected.push({
        ...unknown,
        reason: 'Invalid',
        message: `resource is ${bytes.length} bytes, more than ${maxBytes}`,
      });
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      rejected.push({ ...unknown, reason: 'Invalid', message: 'resource is not JSON' });
      continue;
    }
    const header = headerSchema.safeParse(json);
    const id = {
      kind: (header.success && header.data.kind) || '?',
      namespace: (header.success && header.data.metadata?.namespace) || 'default',
      name: (header.success && header.data.metadata?.name) || '?',
    };
    if (id.kind === EDGE_POLICY_KIND) {
      const p = edgePolicySchema.safeParse(json);
      if (p.success) edgePolicies.push(p.data);
      else rejected.push({ ...id, reason: 'Invalid', message: describe(p.error) });
    } else if (id.kind === EDGE_ROUTE_POLICY_KIND) {
      const p = edgeRoutePolicySchema.safeParse(json);
      if (p.success) routePolicies.push(p.data);
      else rejected.push({ ...id, reason: 'Invalid', message: describe(p.error) });
    } else {
      rejected.push({ ...id, reason: 'Unsupported', message: `kind ${id.kind} is not handled` });
    }
  }
  return { edgePolicies, routePolicies, rejected };
}

/**
 * One EdgePolicy per listener, as Gateway API policy attachment resolves conflicts: the oldest
 * (creationTimestamp), then by namespace/name. The others are rejected as `Conflicted`.
 */
export function effectiveEdgePolicy(policies: readonly EdgePolicy[]): {
  policy: EdgePolicy | undefined;
  conflicted: Rejection[];
} {
  const sorted = [...policies].sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ka = `${a.metadata.namespace}/${a.metadata.name}`;
    const kb = `${b.metadata.namespace}/${b.metadata.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const [policy, ...rest] = sorted;
  return {
    policy,
    conflicted: rest.map((p) => ({
      kind: p.kind,
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      reason: 'Conflicted' as const,
      message: `${policy?.metadata.namespace}/${policy?.metadata.name} is older and applies`,
    })),
  };
}
