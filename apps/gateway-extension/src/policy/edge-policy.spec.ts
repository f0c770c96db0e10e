import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SCOPE_STRING } from '@edge/auth-contract';
import {
  EDGE_POLICY_KIND,
  EDGE_ROUTE_POLICY_KIND,
  HTPASSWD_SHA_LINE,
  POLICY_GROUP,
  POLICY_VERSION,
} from './edge-policy';

interface Crd {
  spec: {
    group: string;
    names: { kind: string };
    versions: {
      name: string;
      subresources?: { status?: object };
      schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } };
    }[];
  };
}

const crd = (file: string): Crd =>
  parse(
    readFileSync(join(__dirname, '../../../../deploy/charts/gateway-extension/crds', file), 'utf8'),
  ) as Crd;

/** Walks a schema by property names (arrays through `items`). */
function at(schema: Record<string, unknown>, ...path: string[]): Record<string, unknown> {
  let s = schema;
  for (const p of path) {
    const props = s.properties as Record<string, Record<string, unknown>> | undefined;
    s = (p === '[]' ? s.items : props?.[p]) as Record<string, unknown>;
    if (s === undefined) throw new Error(`no ${path.join('.')} in the CRD schema`);
  }
  return s;
}

describe('the CRDs in deploy/charts/gateway-extension agree with the extension', () => {
  it('EdgePolicy: group, version, kind, status subresource, htpasswd pattern', () => {
    const c = crd('policy.edge.dev_edgepolicies.yaml');
    expect(c.spec.group).toBe(POLICY_GROUP);
    expect(c.spec.names.kind).toBe(EDGE_POLICY_KIND);
    const v = c.spec.versions[0]!;
    expect(v.name).toBe(POLICY_VERSION);
    expect(v.subresources?.status).toEqual({});
    const spec = v.schema.openAPIV3Schema.properties.spec;
    expect(at(spec, 'basicAuth', 'users', '[]').pattern).toBe(HTPASSWD_SHA_LINE.source);
    expect(at(spec, 'targetRefs', '[]', 'kind').enum).toEqual(['Gateway']);
  });

  it('EdgeRoutePolicy: group, version, kind, the scope grammar of @edge/auth-contract', () => {
    const c = crd('policy.edge.dev_edgeroutepolicies.yaml');
    expect(c.spec.group).toBe(POLICY_GROUP);
    expect(c.spec.names.kind).toBe(EDGE_ROUTE_POLICY_KIND);
    const v = c.spec.versions[0]!;
    expect(v.name).toBe(POLICY_VERSION);
    const spec = v.schema.openAPIV3Schema.properties.spec;
    expect(at(spec, 'requiredScopes', '[]').pattern).toBe(SCOPE_STRING.source);
  });
});
