// Pure functions: the node's resources from its template (XdsResources) plus what the admin API
// stored (upstreams, routes, the Wasm module it runs). No I/O; unit-tested beside.
import { AUTHN_ROUTE_METADATA_NAMESPACE } from '@edge/auth-contract';
import { ADS_CONFIG_SOURCE, type EnvoyJson, type XdsResources } from '@edge/envoy-config';

export interface UpstreamSpec {
  name: string;
  endpoints: { address: string; port: number }[];
  connectTimeoutMs: number;
}

export interface RouteSpec {
  name: string;
  pathPrefix: string;
  upstream: string;
  requiredScopes: string[];
  timeoutMs: number;
}

export interface FieldProblem {
  field: string;
  message: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** The one virtual host dynamic routes are added to: the node's first route configuration's first. */
export function routeTable(resources: XdsResources): Json[] | undefined {
  const vh = asList(resources.routes[0]?.virtual_hosts)[0];
  return vh ? asList(vh.routes) : undefined;
}

export function staticRouteNames(resources: XdsResources): string[] {
  return (routeTable(resources) ?? [])
    .map((r) => (typeof r.name === 'string' ? r.name : ''))
    .filter((n) => n !== '');
}

export function staticClusterNames(resources: XdsResources): string[] {
  return resources.clusters.map((c) => String(c.name));
}

/** Required scopes of a route (its `edge.authn.route` metadata). */
function routeScopes(route: Json): string[] {
  const md = isObject(route.metadata) ? route.metadata.filter_metadata : undefined;
  const ns = isObject(md) ? md[AUTHN_ROUTE_METADATA_NAMESPACE] : undefined;
  const scopes = isObject(ns) ? ns.required_scopes : undefined;
  return Array.isArray(scopes) ? scopes.map(String) : [];
}

/**
 * Where a dynamic route goes: right before the first static prefix route that would otherwise
 * catch its path (`/api/v0/widgets` before `/api/v0/`, `/x` before the catch-all `/`). That
 * static route is the one it shadows: its scopes must be kept, its other policy is inherited.
 */
export function placement(
  table: Json[],
  pathPrefix: string,
): { index: number; shadowed: Json | undefined } {
  for (let i = 0; i < table.length; i++) {
    const r = table[i]!;
    const match = isObject(r.match) ? r.match : {};
    if (typeof match.prefix !== 'string') continue;
    const caseSensitive = match.case_sensitive !== false;
    const p = caseSensitive ? match.prefix : match.prefix.toLowerCase();
    const q = caseSensitive ? pathPrefix : pathPrefix.toLowerCase();
    if (q.startsWith(p)) return { index: i, shadowed: r };
  }
  return { index: table.length, shadowed: undefined };
}

const PATH_PREFIX = /^\/[A-Za-z0-9._~\-/]*$/;

/** Problems of a route against the node's static routes and known clusters (field-named). */
export function routeProblems(
  resources: XdsResources,
  route: RouteSpec,
  upstreamNames: string[],
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const table = routeTable(resources);
  if (!table) return [{ field: 'nodeId', message: 'this node has no route table' }];
  if (staticRouteNames(resources).includes(route.name)) {
    problems.push({ field: 'name', message: `taken by a static route of this node` });
  }
  const p = route.pathPrefix;
  if (!PATH_PREFIX.test(p)) {
    problems.push({
      field: 'pathPrefix',
      message: 'must start with / and use only letters, digits, . _ ~ - and /',
    });
  } else if (p.includes('//') || /\/\.\.?(\/|$)/.test(p)) {
    problems.push({ field: 'pathPrefix', message: 'must be canonical (no //, /./ or /../)' });
  } else {
    const { shadowed } = placement(table, p);
    const m = shadowed && isObject(shadowed.match) ? shadowed.match : undefined;
    if (m && typeof m.prefix === 'string' && m.prefix.toLowerCase() === p.toLowerCase()) {
      problems.push({
        field: 'pathPrefix',
        message: `equals the prefix of static route ${String(shadowed?.name)}`,
      });
    } else if (shadowed) {
      const missing = routeScopes(shadowed).filter((s) => !route.requiredScopes.includes(s));
      if (missing.length > 0) {
        problems.push({
          field: 'requiredScopes',
          message: `must include ${missing.join(', ')}: the path is under static route ${String(shadowed.name)}`,
        });
      }
    }
  }
  const clusters = [...staticClusterNames(resources), ...upstreamNames];
  if (!clusters.includes(route.upstream)) {
    problems.push({
      field: 'upstream',
      message: 'no upstream or cluster of that name on this node',
    });
  }
  return problems;
}

export function upstreamProblems(resources: XdsResources, upstream: UpstreamSpec): FieldProblem[] {
  if (staticClusterNames(resources).includes(upstream.name)) {
    return [{ field: 'name', message: 'taken by a static cluster of this node' }];
  }
  return [];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

function dynamicRoute(route: RouteSpec, shadowed: Json | undefined): Json {
  // Policy of the static route this one refines (e.g. edge.idempotency), scopes as given.
  const inherited =
    shadowed && isObject(shadowed.metadata) && isObject(shadowed.metadata.filter_metadata)
      ? shadowed.metadata.filter_metadata
      : {};
  return {
    name: route.name,
    match: { prefix: route.pathPrefix },
    route: { cluster: route.upstream, timeout: seconds(route.timeoutMs) },
    metadata: {
      filter_metadata: {
        ...structuredClone(inherited),
        [AUTHN_ROUTE_METADATA_NAMESPACE]: { required_scopes: route.requiredScopes },
      },
    },
  };
}

/** The node's resources with the admin API's additions and its Wasm module. */
export function buildResources(
  base: XdsResources,
  upstreams: UpstreamSpec[],
  routes: RouteSpec[],
  wasmModule: Buffer | undefined,
): XdsResources {
  const out = structuredClone(base);
  for (const u of [...upstreams].sort((a, b) => a.name.localeCompare(b.name))) {
    out.clusters.push({
      name: u.name,
      type: 'EDS',
      connect_timeout: seconds(u.connectTimeoutMs),
      eds_cluster_config: { eds_config: ADS_CONFIG_SOURCE, service_name: u.name },
    });
    out.endpoints.push({
      cluster_name: u.name,
      endpoints: [
        {
          lb_endpoints: u.endpoints.map((e) => ({
            endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          })),
        },
      ],
    });
  }
  const vh = asList(out.routes[0]?.virtual_hosts)[0];
  if (vh && routes.length > 0) {
    const table = asList(vh.routes);
    const staticTable = [...table];
    // Longest prefixes first, so a more specific dynamic route wins over a shorter one.
    const sorted = [...routes].sort(
      (a, b) => b.pathPrefix.length - a.pathPrefix.length || a.name.localeCompare(b.name),
    );
    const byStatic = new Map<Json | undefined, Json[]>();
    for (const r of sorted) {
      const { shadowed } = placement(staticTable, r.pathPrefix);
      const list = byStatic.get(shadowed) ?? [];
      list.push(dynamicRoute(r, shadowed));
      byStatic.set(shadowed, list);
    }
    const merged: Json[] = [];
    for (const s of staticTable) merged.push(...(byStatic.get(s) ?? []), s);
    merged.push(...(byStatic.get(undefined) ?? []));
    vh.routes = merged;
  }
  if (wasmModule) {
    for (const ext of out.extensionConfigs) {
      const vm = (ext.typed_config as EnvoyJson | undefined)?.config as EnvoyJson | undefined;
      const vmConfig = vm?.vm_config as EnvoyJson | undefined;
      if (vmConfig) vmConfig.code = { local: { inline_bytes: wasmModule.toString('base64') } };
    }
  }
  return out;
}

/** Node ids whose template delivers a Wasm filter through ECDS. */
export function hasWasmFilter(resources: XdsResources): boolean {
  return resources.extensionConfigs.some((e) => {
    const t = e.typed_config as EnvoyJson | undefined;
    return t?.['@type'] === 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
  });
}
