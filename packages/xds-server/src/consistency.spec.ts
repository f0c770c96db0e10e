import { describe, expect, it } from 'vitest';
import { validateSnapshot } from './consistency';
import { encodeResource, fieldOfDecodeError } from './encode';
import { baseSnapshot, cluster, endpoints, listener, route } from './memory.spec-support';
import { ConsistencyError, type Snapshot } from './snapshot';
import { SnapshotCache } from './snapshot-cache';
import { TypeUrl } from './type-url';

describe('consistency check', () => {
  it('accepts a consistent snapshot', () => {
    expect(validateSnapshot(baseSnapshot())).toEqual([]);
  });

  it('names a listener whose RDS route configuration is missing', () => {
    const s = baseSnapshot();
    s.resources[TypeUrl.Route] = [];
    expect(validateSnapshot(s)).toEqual([
      {
        typeUrl: TypeUrl.Listener,
        name: 'l',
        field: 'filter_chains[0].filters[0].typed_config.rds.route_config_name',
        message: 'route configuration "r" is not in the snapshot',
      },
    ]);
  });

  it('names a route whose cluster is missing (also weighted and inline)', () => {
    const s = baseSnapshot({ routeCluster: 'ghost' });
    s.resources[TypeUrl.Route]!.push({
      name: 'w',
      value: {
        virtual_hosts: [
          {
            name: 'v',
            domains: ['*'],
            routes: [
              {
                match: { prefix: '/' },
                route: {
                  weighted_clusters: {
                    clusters: [
                      { name: 'a', weight: 1 },
                      { name: 'gone', weight: 1 },
                    ],
                  },
                },
              },
            ],
          },
        ],
      },
    });
    const issues = validateSnapshot(s);
    expect(issues.map((i) => [i.name, i.field, i.message])).toEqual([
      ['r', 'virtual_hosts[0].routes[0].route.cluster', 'cluster "ghost" is not in the snapshot'],
      [
        'w',
        'virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1].name',
        'cluster "gone" is not in the snapshot',
      ],
    ]);
  });

  it('names an EDS cluster without a ClusterLoadAssignment', () => {
    const s = baseSnapshot();
    s.resources[TypeUrl.Endpoint] = [endpoints('a', 1)];
    expect(validateSnapshot(s)).toEqual([
      {
        typeUrl: TypeUrl.Cluster,
        name: 'b',
        field: 'eds_cluster_config.service_name',
        message: 'EDS cluster has no ClusterLoadAssignment "b" in the snapshot',
      },
    ]);
  });

  it('names an ECDS filter without its extension config', () => {
    const s = baseSnapshot();
    s.resources[TypeUrl.Listener] = [
      listener('l', 'r', [
        { name: 'hdr', config_discovery: { config_source: { ads: {} }, type_urls: ['x'] } },
      ]),
    ];
    expect(validateSnapshot(s)).toEqual([
      {
        typeUrl: TypeUrl.Listener,
        name: 'l',
        field: 'filter_chains[0].filters[0].typed_config.http_filters[0].config_discovery',
        message: 'extension config "hdr" (ECDS) is not in the snapshot',
      },
    ]);
    s.resources[TypeUrl.ExtensionConfig] = [
      {
        name: 'hdr',
        value: {
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
          },
        },
      },
    ];
    expect(validateSnapshot(s)).toEqual([]);
  });

  it('names duplicates and unknown types', () => {
    const s = baseSnapshot();
    s.resources[TypeUrl.Cluster]!.push(cluster('a'));
    (s.resources as Record<string, unknown>)['type.googleapis.com/envoy.Nope'] = [];
    const issues = validateSnapshot(s);
    expect(issues).toContainEqual({
      typeUrl: TypeUrl.Cluster,
      name: 'a',
      field: 'name',
      message: 'duplicate name',
    });
    expect(issues.some((i) => i.typeUrl === ('type.googleapis.com/envoy.Nope' as never))).toBe(
      true,
    );
  });

  it('setSnapshot throws a ConsistencyError and publishes nothing', () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('n', baseSnapshot());
    const before = cache.getVersions('n');
    const bad: Snapshot = baseSnapshot({ routeCluster: 'ghost' });
    expect(() => cache.setSnapshot('n', bad)).toThrow(ConsistencyError);
    try {
      cache.setSnapshot('n', bad);
    } catch (e) {
      expect((e as ConsistencyError).issues[0]?.field).toBe(
        'virtual_hosts[0].routes[0].route.cluster',
      );
      expect((e as Error).message).toContain('cluster "ghost"');
    }
    expect(cache.getVersions('n')).toEqual(before);
    expect(() => cache.setSnapshot('other', bad)).toThrow(ConsistencyError);
    expect(cache.nodeIds()).toEqual(['n']);
  });

  it('rejects garbage snapshots without throwing anything but ConsistencyError', () => {
    const cache = new SnapshotCache();
    for (const junk of [
      null,
      {},
      { resources: null },
      { resources: { [TypeUrl.Cluster]: 'x' } },
      { resources: { [TypeUrl.Cluster]: [null, 1, { name: 5 }] } },
    ]) {
      expect(() => cache.setSnapshot('n', junk as unknown as Snapshot)).toThrow(ConsistencyError);
    }
  });

  it('gives versions that depend on content only', () => {
    const cache = new SnapshotCache();
    const v1 = cache.setSnapshot('n', baseSnapshot()).versions;
    const reordered = baseSnapshot();
    reordered.resources[TypeUrl.Cluster]!.reverse();
    expect(cache.setSnapshot('n', reordered).versions).toEqual(v1);
    const v2 = cache.setSnapshot('n', baseSnapshot({ portA: 9 })).versions;
    expect(v2[TypeUrl.Endpoint]).not.toBe(v1[TypeUrl.Endpoint]);
    expect(v2[TypeUrl.Cluster]).toBe(v1[TypeUrl.Cluster]);
  });
});

describe('encoding Envoy JSON', () => {
  it('encodes snake_case and lowerCamel, durations and Any', () => {
    const r = encodeResource(TypeUrl.Route, route('r', 'a'));
    expect(r.ok).toBe(true);
    const camel = encodeResource(TypeUrl.Cluster, {
      name: 'c',
      value: { connectTimeout: '0.25s', type: 'STATIC' },
    });
    expect(camel.ok && camel.encoded.canonical).toMatchObject({
      connect_timeout: '0.250s',
      type: 'STATIC',
    });
  });

  it('names the field of a bad value', () => {
    const r = encodeResource(TypeUrl.Endpoint, endpoints('a', 'abc' as unknown as number));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issue).toMatchObject({
      typeUrl: TypeUrl.Endpoint,
      name: 'a',
      field: 'envoy.config.core.v3.SocketAddress.port_value',
    });
  });

  it('names an unknown field, inside an Any too', () => {
    const bad = listener('l', 'r');
    const hcm = (
      bad.value.filter_chains as { filters: { typed_config: Record<string, unknown> }[] }[]
    )[0]!.filters[0]!.typed_config;
    hcm.stat_prefixx = 'typo';
    const r = encodeResource(TypeUrl.Listener, bad);
    expect(!r.ok && r.issue.field).toBe(
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.stat_prefixx',
    );
  });

  it('names an @type the registry does not know', () => {
    const r = encodeResource(TypeUrl.ExtensionConfig, {
      name: 'x',
      value: { typed_config: { '@type': 'type.googleapis.com/acme.Nope' } },
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issue.field).toMatch(/@type$/);
    expect(!r.ok && r.issue.message).toContain('acme.Nope');
  });

  it('fills the name in and rejects a different one', () => {
    const ok = encodeResource(TypeUrl.Endpoint, endpoints('a', 1));
    expect(ok.ok && ok.encoded.canonical.cluster_name).toBe('a');
    const r = encodeResource(TypeUrl.Cluster, { name: 'a', value: { name: 'b' } });
    expect(!r.ok && r.issue).toMatchObject({
      field: 'name',
      message: 'is "b" but the resource is named "a"',
    });
  });

  it('reads the field out of protobuf-es messages', () => {
    expect(fieldOfDecodeError('cannot decode field a.B.c from JSON: x')).toBe('a.B.c');
    expect(fieldOfDecodeError('something else')).toBe('value');
  });
});
