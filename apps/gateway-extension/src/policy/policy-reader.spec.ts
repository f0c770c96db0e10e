import { describe, expect, it } from 'vitest';
import { edgePolicy, edgeRoutePolicy, htpasswd, resource } from '../testing/xds-fixtures';
import { effectiveEdgePolicy, readPolicies } from './policy-reader';

const MAX = 64 * 1024;

describe('readPolicies', () => {
  it('reads valid EdgePolicy and EdgeRoutePolicy resources', () => {
    const r = readPolicies(
      [
        resource(edgePolicy('a', { authn: {} })),
        resource(edgePolicy('b', { basicAuth: { users: [htpasswd('alice', 'pw')] } })),
        resource(edgeRoutePolicy('r', { requiredScopes: ['orders:write'] })),
      ],
      MAX,
    );
    expect(r.edgePolicies.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    expect(r.routePolicies.map((p) => p.spec.requiredScopes)).toEqual([['orders:write']]);
    expect(r.rejected).toEqual([]);
  });

  it.each([
    ['not JSON', { unstructuredBytes: Buffer.from('{nope') }, 'not JSON'],
    [
      'a plain password instead of an htpasswd {SHA} line',
      resource(edgePolicy('p', { basicAuth: { users: ['alice:wonderland'] } })),
      'spec.basicAuth.users.0',
    ],
    [
      'both authn and basicAuth',
      resource(edgePolicy('p', { authn: {}, basicAuth: { users: [htpasswd('a', 'b')] } })),
      'exactly one of authn or basicAuth',
    ],
    ['neither', resource(edgePolicy('p', {})), 'exactly one of authn or basicAuth'],
    [
      'the same user twice',
      resource(edgePolicy('p', { basicAuth: { users: [htpasswd('a', 'b'), htpasswd('a', 'c')] } })),
      'same user twice',
    ],
    [
      'a target that is not a Gateway',
      resource(
        edgePolicy('p', {
          authn: {},
          targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'x' }],
        }),
      ),
      'spec.targetRefs.0.kind',
    ],
    ['an unknown spec field', resource(edgePolicy('p', { authn: {}, failOpen: true })), 'spec'],
    [
      'a malformed scope',
      resource(edgeRoutePolicy('r', { requiredScopes: ['Orders:Write'] })),
      'spec.requiredScopes.0',
    ],
    ['a route policy that asks nothing', resource(edgeRoutePolicy('r', {})), 'requiredScopes'],
    [
      'another API version',
      resource({ ...edgePolicy('p', { authn: {} }), apiVersion: 'policy.edge.dev/v9' }),
      'apiVersion',
    ],
  ])('rejects %s as Invalid, without throwing', (_what, res, message) => {
    const r = readPolicies([res], MAX);
    expect(r.edgePolicies).toEqual([]);
    expect(r.routePolicies).toEqual([]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]!.reason).toBe('Invalid');
    expect(r.rejected[0]!.message).toContain(message);
  });

  it('rejects another kind as Unsupported and an oversized resource unparsed', () => {
    const big = resource(edgePolicy('big', { authn: {}, pad: 'x'.repeat(MAX) }));
    const r = readPolicies(
      [resource({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } }), big],
      MAX,
    );
    expect(r.rejected.map((x) => [x.kind, x.reason])).toEqual([
      ['ConfigMap', 'Unsupported'],
      ['?', 'Invalid'],
    ]);
    expect(r.rejected[1]!.message).toContain('bytes');
  });

  it('never echoes a spec (htpasswd hashes) into a rejection message', () => {
    const line = htpasswd('alice', 'pw');
    const r = readPolicies(
      [resource(edgePolicy('p', { authn: {}, basicAuth: { users: [line] } }))],
      MAX,
    );
    expect(JSON.stringify(r.rejected)).not.toContain(line.split(':')[1]);
  });
});

describe('effectiveEdgePolicy', () => {
  it('takes the oldest policy, then namespace/name; the others are Conflicted', () => {
    const r = readPolicies(
      [
        resource(edgePolicy('newer', { authn: {} }, { creationTimestamp: '2026-02-01T00:00:00Z' })),
        resource(edgePolicy('b', { authn: {} }, { creationTimestamp: '2026-01-01T00:00:00Z' })),
        resource(edgePolicy('a', { authn: {} }, { creationTimestamp: '2026-01-01T00:00:00Z' })),
      ],
      MAX,
    );
    const { policy, conflicted } = effectiveEdgePolicy(r.edgePolicies);
    expect(policy?.metadata.name).toBe('a');
    expect(conflicted.map((c) => [c.name, c.reason])).toEqual([
      ['b', 'Conflicted'],
      ['newer', 'Conflicted'],
    ]);
  });

  it('is undefined without policies', () => {
    expect(effectiveEdgePolicy([])).toEqual({ policy: undefined, conflicted: [] });
  });
});
