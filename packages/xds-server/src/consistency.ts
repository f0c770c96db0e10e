import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { encodeResource, typeVersion, type EncodedResource } from './encode';
import { ConsistencyError, type ConsistencyIssue, type Snapshot } from './snapshot';
import { isTypeUrl, PUSH_ORDER, TypeUrl, type TypeUrlValue } from './type-url';

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** One type of a prepared snapshot: its version and resources by name. */
export interface PreparedType {
  version: string;
  resources: ReadonlyMap<string, EncodedResource>;
}

/** A snapshot after encoding and the consistency check: what streams serve. */
export interface PreparedSnapshot {
  source: Snapshot;
  types: ReadonlyMap<TypeUrlValue, PreparedType>;
}

const obj = (v: JsonValue | undefined): JsonObject | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
const arr = (v: JsonValue | undefined): JsonValue[] => (Array.isArray(v) ? v : []);
const str = (v: JsonValue | undefined): string | undefined =>
  typeof v === 'string' ? v : undefined;

/**
 * Encodes every resource and checks the references between them. Returns the issues (empty when
 * the snapshot is good) and, when there are none, the prepared snapshot.
 */
export function prepareSnapshot(s: Snapshot): {
  issues: ConsistencyIssue[];
  prepared?: PreparedSnapshot;
} {
  const issues: ConsistencyIssue[] = [];
  const types = new Map<TypeUrlValue, Map<string, EncodedResource>>();
  if (
    s === null ||
    typeof s !== 'object' ||
    s.resources === null ||
    typeof s.resources !== 'object'
  ) {
    return {
      issues: [
        {
          typeUrl: TypeUrl.Listener,
          name: '',
          field: 'resources',
          message: 'a snapshot needs a resources object',
        },
      ],
    };
  }
  for (const [typeUrl, list] of Object.entries(s.resources)) {
    if (!isTypeUrl(typeUrl)) {
      issues.push({
        typeUrl: typeUrl as TypeUrlValue,
        name: '',
        field: 'typeUrl',
        message: `unknown resource type (served: ${PUSH_ORDER.join(', ')})`,
      });
      continue;
    }
    const byName = new Map<string, EncodedResource>();
    types.set(typeUrl, byName);
    if (!Array.isArray(list)) {
      issues.push({ typeUrl, name: '', field: 'resources', message: 'must be an array' });
      continue;
    }
    for (const r of list) {
      const res = encodeResource(typeUrl, r);
      if (!res.ok) {
        issues.push(res.issue);
        continue;
      }
      if (byName.has(res.encoded.name)) {
        issues.push({ typeUrl, name: res.encoded.name, field: 'name', message: 'duplicate name' });
        continue;
      }
      byName.set(res.encoded.name, res.encoded);
    }
  }
  for (const t of PUSH_ORDER) if (!types.has(t)) types.set(t, new Map());
  if (issues.length === 0) issues.push(...checkReferences(types));
  if (issues.length > 0) return { issues };
  const prepared = new Map<TypeUrlValue, PreparedType>();
  for (const [t, byName] of types)
    prepared.set(t, { version: typeVersion(byName.values()), resources: byName });
  return { issues, prepared: { source: s, types: prepared } };
}

/** The consistency check alone: every problem in the snapshot, empty when it is good. */
export function validateSnapshot(s: Snapshot): ConsistencyIssue[] {
  return prepareSnapshot(s).issues;
}

/** Like `validateSnapshot`, but throws a `ConsistencyError` naming every problem. */
export function prepareOrThrow(s: Snapshot): PreparedSnapshot {
  const { issues, prepared } = prepareSnapshot(s);
  if (!prepared) throw new ConsistencyError(issues);
  return prepared;
}

function checkReferences(
  types: Map<TypeUrlValue, Map<string, EncodedResource>>,
): ConsistencyIssue[] {
  const issues: ConsistencyIssue[] = [];
  const has = (t: TypeUrlValue, name: string) => types.get(t)?.has(name) ?? false;

  const checkRouteConfig = (
    typeUrl: TypeUrlValue,
    name: string,
    prefix: string,
    rc: JsonObject,
  ) => {
    arr(rc.virtual_hosts).forEach((vh, i) => {
      arr(obj(vh)?.routes).forEach((route, j) => {
        const action = obj(obj(route)?.route);
        if (!action) return;
        const at = `${prefix}virtual_hosts[${i}].routes[${j}].route`;
        const cluster = str(action.cluster);
        if (cluster !== undefined && !has(TypeUrl.Cluster, cluster)) {
          issues.push({
            typeUrl,
            name,
            field: `${at}.cluster`,
            message: `cluster "${cluster}" is not in the snapshot`,
          });
        }
        arr(obj(action.weighted_clusters)?.clusters).forEach((wc, k) => {
          const n = str(obj(wc)?.name);
          if (n !== undefined && !has(TypeUrl.Cluster, n)) {
            issues.push({
              typeUrl,
              name,
              field: `${at}.weighted_clusters.clusters[${k}].name`,
              message: `cluster "${n}" is not in the snapshot`,
            });
          }
        });
        arr(action.request_mirror_policies).forEach((m, k) => {
          const n = str(obj(m)?.cluster);
          if (n !== undefined && n !== '' && !has(TypeUrl.Cluster, n)) {
            issues.push({
              typeUrl,
              name,
              field: `${at}.request_mirror_policies[${k}].cluster`,
              message: `cluster "${n}" is not in the snapshot`,
            });
          }
        });
      });
    });
  };

  // A filter whose config comes from ECDS names an extension config by its filter name.
  const checkDiscovered = (
    typeUrl: TypeUrlValue,
    name: string,
    field: string,
    filter: JsonObject,
  ) => {
    if (!obj(filter.config_discovery)) return;
    const n = str(filter.name) ?? '';
    if (!has(TypeUrl.ExtensionConfig, n)) {
      issues.push({
        typeUrl,
        name,
        field: `${field}.config_discovery`,
        message: `extension config "${n}" (ECDS) is not in the snapshot`,
      });
    }
  };

  for (const [name, l] of types.get(TypeUrl.Listener) ?? []) {
    const chains: [string, JsonValue][] = arr(l.canonical.filter_chains).map((c, i) => [
      `filter_chains[${i}]`,
      c,
    ]);
    if (obj(l.canonical.default_filter_chain)) {
      chains.push(['default_filter_chain', l.canonical.default_filter_chain ?? null]);
    }
    arr(l.canonical.listener_filters).forEach((f, i) => {
      const fo = obj(f);
      if (fo) checkDiscovered(TypeUrl.Listener, name, `listener_filters[${i}]`, fo);
    });
    for (const [chainField, chain] of chains) {
      arr(obj(chain)?.filters).forEach((f, i) => {
        const filter = obj(f);
        if (!filter) return;
        const field = `${chainField}.filters[${i}]`;
        checkDiscovered(TypeUrl.Listener, name, field, filter);
        const tc = obj(filter.typed_config);
        if (!tc || tc['@type'] !== HCM) return;
        const rds = obj(tc.rds);
        const rcName = str(rds?.route_config_name);
        if (rds && rcName !== undefined && !has(TypeUrl.Route, rcName)) {
          issues.push({
            typeUrl: TypeUrl.Listener,
            name,
            field: `${field}.typed_config.rds.route_config_name`,
            message: `route configuration "${rcName}" is not in the snapshot`,
          });
        }
        const inline = obj(tc.route_config);
        if (inline)
          checkRouteConfig(TypeUrl.Listener, name, `${field}.typed_config.route_config.`, inline);
        arr(tc.http_filters).forEach((hf, k) => {
          const hfo = obj(hf);
          if (hfo)
            checkDiscovered(
              TypeUrl.Listener,
              name,
              `${field}.typed_config.http_filters[${k}]`,
              hfo,
            );
        });
      });
    }
  }

  for (const [name, rc] of types.get(TypeUrl.Route) ?? [])
    checkRouteConfig(TypeUrl.Route, name, '', rc.canonical);

  for (const [name, c] of types.get(TypeUrl.Cluster) ?? []) {
    if (c.canonical.type !== 'EDS') continue;
    const service = str(obj(c.canonical.eds_cluster_config)?.service_name) || name;
    if (!has(TypeUrl.Endpoint, service)) {
      issues.push({
        typeUrl: TypeUrl.Cluster,
        name,
        field: 'eds_cluster_config.service_name',
        message: `EDS cluster has no ClusterLoadAssignment "${service}" in the snapshot`,
      });
    }
  }
  return issues;
}
