import { devTopology, nodeXdsResources } from '@edge/envoy-config';
import { describe, expect, it } from 'vitest';
import {
  buildResources,
  placement,
  routeProblems,
  routeTable,
  type RouteSpec,
  upstreamProblems,
} from './snapshot-builder';

const [frontNode, sidecarNode] = devTopology();
const front = nodeXdsResources(frontNode!);
const sidecar = nodeXdsResources(sidecarNode!);

const route = (over: Partial<RouteSpec> = {}): RouteSpec => ({
  name: 'widgets',
  pathPrefix: '/api/v0/widgets',
  upstream: 'echo',
  requiredScopes: [],
  timeoutMs: 15_000,
  ...over,
});

const names = (r: ReturnType<typeof buildResources>) =>
  (routeTable(r) ?? []).map((x) => String(x.name));

describe('placement and routeProblems (front proxy)', () => {
  it('puts a route right before the static route that would catch it', () => {
    const table = routeTable(front)!;
    expect(placement(table, '/api/v0/widgets').shadowed?.name).toBe('api');
    expect(placement(table, '/other').shadowed?.name).toBe('no-route');
    // /api/v0/admin is matched case-insensitively: any spelling lands under it.
    expect(placement(table, '/api/v0/ADMINx').shadowed?.name).toBe('admin');
  });

  it('accepts a well-formed route to a static cluster', () => {
    expect(routeProblems(front, route(), [])).toEqual([]);
  });

  it('names each bad field', () => {
    const fields = (r: RouteSpec, ups: string[] = []) =>
      routeProblems(front, r, ups).map((p) => p.field);
    expect(fields(route({ upstream: 'nope' }))).toEqual(['upstream']);
    expect(fields(route({ upstream: 'widgets' }), ['widgets'])).toEqual([]);
    expect(fields(route({ name: 'api' }))).toEqual(['name']);
    expect(fields(route({ pathPrefix: '/api/v0/a;b' }))).toEqual(['pathPrefix']);
    expect(fields(route({ pathPrefix: '/api/v0/%61' }))).toEqual(['pathPrefix']);
    expect(fields(route({ pathPrefix: '/api/v0//x' }))).toEqual(['pathPrefix']);
    expect(fields(route({ pathPrefix: '/api/v0/../admin' }))).toEqual(['pathPrefix']);
    expect(fields(route({ pathPrefix: '/api/v0/' }))).toEqual(['pathPrefix']);
  });

  it("refuses a route under a scoped static route unless it keeps that route's scopes", () => {
    const p = routeProblems(front, route({ pathPrefix: '/api/v0/admin/widgets' }), []);
    expect(p).toEqual([
      { field: 'requiredScopes', message: expect.stringMatching(/admin:read.*static route admin/) },
    ]);
    expect(
      routeProblems(
        front,
        route({ pathPrefix: '/api/v0/admin/widgets', requiredScopes: ['admin:read', 'w:x'] }),
        [],
      ),
    ).toEqual([]);
  });

  it('refuses an upstream named like a static cluster', () => {
    expect(
      upstreamProblems(front, { name: 'echo', endpoints: [], connectTimeoutMs: 1000 }),
    ).toEqual([{ field: 'name', message: 'taken by a static cluster of this node' }]);
  });
});

describe('buildResources', () => {
  it('adds upstreams as EDS clusters with their endpoints', () => {
    const r = buildResources(
      front,
      [
        {
          name: 'widgets',
          endpoints: [{ address: '127.0.0.1', port: 7999 }],
          connectTimeoutMs: 250,
        },
      ],
      [],
      undefined,
    );
    expect(r.clusters.at(-1)).toMatchObject({
      name: 'widgets',
      type: 'EDS',
      connect_timeout: '0.250s',
    });
    expect(r.endpoints.at(-1)).toMatchObject({ cluster_name: 'widgets' });
    expect(front.clusters.some((c) => c.name === 'widgets')).toBe(false); // base untouched
  });

  it('inserts routes before the static route they refine, longest prefix first, with metadata', () => {
    const r = buildResources(
      front,
      [],
      [
        route({ name: 'w', pathPrefix: '/api/v0/w', requiredScopes: ['w:read'] }),
        route({ name: 'wide', pathPrefix: '/api/v0/wide' }),
        route({ name: 'orders-x', pathPrefix: '/api/v0/orders/x' }),
        route({ name: 'top', pathPrefix: '/top' }),
      ],
      undefined,
    );
    const n = names(r);
    expect(n.indexOf('wide')).toBe(n.indexOf('w') - 1);
    expect(n.indexOf('w')).toBe(n.indexOf('api') - 1);
    expect(n.indexOf('orders-x')).toBe(n.indexOf('orders') - 1);
    expect(n.indexOf('top')).toBe(n.indexOf('no-route') - 1);
    expect(n[0]).toBe('non-canonical');
    const w = routeTable(r)!.find((x) => x.name === 'w')!;
    expect(w).toMatchObject({
      match: { prefix: '/api/v0/w' },
      route: { cluster: 'echo', timeout: '15.000s' },
      metadata: { filter_metadata: { 'edge.authn.route': { required_scopes: ['w:read'] } } },
    });
    // Policy of the refined static route is inherited (orders require an Idempotency-Key).
    const ox = routeTable(r)!.find((x) => x.name === 'orders-x')!;
    expect(ox).toMatchObject({
      metadata: { filter_metadata: { 'edge.idempotency': { required: true } } },
    });
  });

  it("inlines the node's Wasm module into its ECDS filter config", () => {
    const r = buildResources(sidecar, [], [], Buffer.from([0, 97, 115, 109]));
    expect(JSON.stringify(r.extensionConfigs[0])).toContain('"inline_bytes":"AGFzbQ=="');
    expect(JSON.stringify(sidecar.extensionConfigs[0])).not.toContain('inline_bytes');
  });
});
