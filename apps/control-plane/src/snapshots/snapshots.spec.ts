import { devTopology, nodeXdsResources } from '@edge/envoy-config';
import { validateSnapshot } from '@edge/xds-server';
import { describe, expect, it } from 'vitest';
import { buildResources } from '../topology/snapshot-builder';
import { toSnapshot } from './snapshots.service';

describe('toSnapshot (the topology through the xds-server consistency check)', () => {
  it.each(devTopology().map((n) => [n.id, n] as const))(
    '%s: its template, an upstream, a route and an inlined module encode and hang together',
    (_id, node) => {
      const base = nodeXdsResources(node);
      const r = buildResources(
        base,
        [{ name: 'widgets', endpoints: [{ address: '::1', port: 7999 }], connectTimeoutMs: 500 }],
        [
          {
            name: 'widgets',
            pathPrefix: '/api/v0/widgets',
            upstream: 'widgets',
            requiredScopes: ['widgets:read'],
            timeoutMs: 2_000,
          },
        ],
        Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
      );
      expect(validateSnapshot(toSnapshot(r))).toEqual([]);
    },
  );

  it('names the resource and field of a route to a cluster the node lacks', () => {
    const base = nodeXdsResources(devTopology()[1]!);
    const r = buildResources(
      base,
      [],
      [{ name: 'x', pathPrefix: '/x', upstream: 'ghost', requiredScopes: [], timeoutMs: 1000 }],
      undefined,
    );
    const issues = validateSnapshot(toSnapshot(r));
    expect(issues.length).toBeGreaterThan(0);
    expect(JSON.stringify(issues)).toContain('ghost');
  });
});
