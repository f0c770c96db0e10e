/** Envoy route metadata namespace this processor reads (`request_attributes: [xds.route_metadata]`). */
export const ROUTE_METADATA_NAMESPACE = 'edge.idempotency';

export type StoreUnavailableAction = 'fail-closed' | 'pass-through';

/**
 * What a route asks, from `filter_metadata: { edge.idempotency: {...} }` (every field optional):
 * - `methods`: methods idempotency applies to (default `[POST, PATCH]`; `[]` turns it off);
 * - `required`: a request without a key is refused with 400 (default false);
 * - `retention_seconds`: how long a completed entry is kept (default from the config, 24 h);
 * - `store_server_errors`: store and replay 5xx answers of the upstream (default true);
 * - `max_response_bytes`: largest stored body (at most the config's, which is the default);
 * - `on_store_unavailable`: Redis down/slow → `fail-closed` (503) or `pass-through` (with an
 *   `idempotency-warning` response header). Default: fail-closed when the key is required,
 *   pass-through otherwise.
 */
export interface RoutePolicy {
  readonly methods: ReadonlySet<string>;
  readonly required: boolean;
  readonly retentionSeconds: number;
  readonly storeServerErrors: boolean;
  readonly maxResponseBytes: number;
  readonly onStoreUnavailable: StoreUnavailableAction;
}

export interface PolicyDefaults {
  retentionSeconds: number;
  maxResponseBytes: number;
}

/** Thrown for route metadata that cannot be read: the route is misconfigured, fail closed. */
export class RoutePolicyError extends Error {
  constructor(readonly sentence: string) {
    super(sentence);
    this.name = 'RoutePolicyError';
  }
}

const METHOD = /^[A-Z]{1,16}$/;
const KNOWN = new Set([
  'methods',
  'required',
  'retention_seconds',
  'store_server_errors',
  'max_response_bytes',
  'on_store_unavailable',
]);

function bool(v: unknown, name: string, def: boolean): boolean {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') throw new RoutePolicyError(`${name} must be a boolean`);
  return v;
}

function positive(v: unknown, name: string, def: number, max: number): number {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new RoutePolicyError(`${name} must be an integer from 0 to ${max}`);
  }
  return v;
}

/**
 * Builds a policy parser with the process defaults. Results are cached per metadata object
 * (route metadata repeats per route), so the hot path parses each route once.
 */
export function routePolicyParser(
  defaults: PolicyDefaults,
): (ns: Readonly<Record<string, unknown>> | undefined) => RoutePolicy {
  const base: RoutePolicy = Object.freeze({
    methods: new Set(['POST', 'PATCH']),
    required: false,
    retentionSeconds: defaults.retentionSeconds,
    storeServerErrors: true,
    maxResponseBytes: defaults.maxResponseBytes,
    onStoreUnavailable: 'pass-through',
  });
  const cache = new WeakMap<object, RoutePolicy>();
  return (ns) => {
    if (ns === undefined) return base;
    const hit = cache.get(ns);
    if (hit !== undefined) return hit;
    const p = parse(ns, base, defaults);
    cache.set(ns, p);
    return p;
  };
}

function parse(
  ns: Readonly<Record<string, unknown>>,
  base: RoutePolicy,
  defaults: PolicyDefaults,
): RoutePolicy {
  const prefix = ROUTE_METADATA_NAMESPACE;
  for (const k of Object.keys(ns)) {
    if (!KNOWN.has(k)) throw new RoutePolicyError(`${prefix}.${k} is not a known setting`);
  }
  let methods = base.methods;
  if (ns.methods !== undefined && ns.methods !== null) {
    if (
      !Array.isArray(ns.methods) ||
      !ns.methods.every((m): m is string => typeof m === 'string' && METHOD.test(m))
    ) {
      throw new RoutePolicyError(`${prefix}.methods must be a list of upper-case methods`);
    }
    methods = new Set(ns.methods);
  }
  const required = bool(ns.required, `${prefix}.required`, false);
  const retentionSeconds = positive(
    ns.retention_seconds,
    `${prefix}.retention_seconds`,
    defaults.retentionSeconds,
    30 * 86_400,
  );
  if (retentionSeconds === 0) {
    throw new RoutePolicyError(`${prefix}.retention_seconds must be at least 1`);
  }
  const maxResponseBytes = positive(
    ns.max_response_bytes,
    `${prefix}.max_response_bytes`,
    defaults.maxResponseBytes,
    defaults.maxResponseBytes,
  );
  const action = ns.on_store_unavailable;
  if (
    action !== undefined &&
    action !== null &&
    action !== 'fail-closed' &&
    action !== 'pass-through'
  ) {
    throw new RoutePolicyError(
      `${prefix}.on_store_unavailable must be fail-closed or pass-through`,
    );
  }
  return Object.freeze({
    methods,
    required,
    retentionSeconds,
    storeServerErrors: bool(ns.store_server_errors, `${prefix}.store_server_errors`, true),
    maxResponseBytes,
    onStoreUnavailable: action ?? (required ? 'fail-closed' : 'pass-through'),
  });
}
