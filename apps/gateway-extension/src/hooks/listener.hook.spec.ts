import { describe, expect, it } from 'vitest';
import { basicAuthFilter, envoyListener, extProcFilter, httpConnectionManager } from '@edge/protos';
import {
  edgePolicy,
  htpasswd,
  httpFiltersOf,
  listener,
  otherHttpFilter,
  routerHttpFilter,
  tcpListener,
} from '../testing/xds-fixtures';
import { edgePolicySchema } from '../policy/edge-policy';
import { AUTHN_FILTER_NAME, authnFilter, BASIC_AUTH_FILTER_NAME } from '../xds/edge-filters';
import { applyEdgePolicy } from './listener.hook';

const authn = edgePolicySchema.parse(edgePolicy('authn', { authn: {} }));
const basic = edgePolicySchema.parse(
  edgePolicy('basic', { basicAuth: { users: [htpasswd('alice', 'wonderland')] } }),
);
const CLUSTER = 'edge_authn_processor';
const names = (l: envoyListener.Listener) => httpFiltersOf(l).map((fs) => fs.map((f) => f.name));
const bytes = (l: envoyListener.Listener) => Buffer.from(envoyListener.Listener.encode(l).finish());

describe('applyEdgePolicy (PostHTTPListenerModify)', () => {
  it('inserts the authn filter right before the router in every filter chain and the default one', () => {
    const l = listener({
      chains: [
        [otherHttpFilter(), routerHttpFilter()],
        [routerHttpFilter()],
        [otherHttpFilter('envoy.filters.http.jwt_authn'), otherHttpFilter(), routerHttpFilter()],
      ],
      defaultChain: [otherHttpFilter(), routerHttpFilter()],
    });
    const out = applyEdgePolicy(l, authn, CLUSTER);
    expect(out).toMatchObject({ hcms: 4, changed: 4, withoutRouter: 0 });
    expect(names(out.listener)).toEqual([
      ['envoy.filters.http.cors', AUTHN_FILTER_NAME, 'envoy.filters.http.router'],
      [AUTHN_FILTER_NAME, 'envoy.filters.http.router'],
      [
        'envoy.filters.http.jwt_authn',
        'envoy.filters.http.cors',
        AUTHN_FILTER_NAME,
        'envoy.filters.http.router',
      ],
      ['envoy.filters.http.cors', AUTHN_FILTER_NAME, 'envoy.filters.http.router'],
    ]);
    // The inserted filter is the real ext_proc config, pointed at the authn cluster.
    const f = httpFiltersOf(out.listener)[0]![1]!;
    expect(f.configType?.$case).toBe('typedConfig');
    const cfg = extProcFilter.ExternalProcessor.decode(
      f.configType?.$case === 'typedConfig' ? f.configType.value.value : Buffer.alloc(0),
    );
    expect(cfg.grpcService?.targetSpecifier).toMatchObject({
      $case: 'envoyGrpc',
      value: { clusterName: CLUSTER },
    });
    expect(cfg.failureModeAllow).toBe(false);
  });

  it('is idempotent: its own output comes back byte for byte', () => {
    const l = listener({
      chains: [[otherHttpFilter(), routerHttpFilter()], [routerHttpFilter()]],
      defaultChain: [routerHttpFilter()],
    });
    const once = applyEdgePolicy(l, authn, CLUSTER);
    const twice = applyEdgePolicy(once.listener, authn, CLUSTER);
    expect(twice.changed).toBe(0);
    expect(twice.listener).toBe(once.listener);
    expect(bytes(twice.listener).equals(bytes(once.listener))).toBe(true);
  });

  it('updates an existing edge filter in place (same position, new config)', () => {
    const stale = authnFilter('old_cluster');
    const l = listener({ chains: [[stale, otherHttpFilter(), routerHttpFilter()]] });
    const out = applyEdgePolicy(l, authn, CLUSTER);
    expect(out.changed).toBe(1);
    expect(names(out.listener)).toEqual([
      [AUTHN_FILTER_NAME, 'envoy.filters.http.cors', 'envoy.filters.http.router'],
    ]);
    const f = httpFiltersOf(out.listener)[0]![0]!;
    const cfg = extProcFilter.ExternalProcessor.decode(
      f.configType?.$case === 'typedConfig' ? f.configType.value.value : Buffer.alloc(0),
    );
    expect(
      cfg.grpcService?.targetSpecifier?.$case === 'envoyGrpc' &&
        cfg.grpcService.targetSpecifier.value.clusterName,
    ).toBe(CLUSTER);
  });

  it('inserts basic_auth with the policy users, and drops the authn filter the policy no longer asks for', () => {
    const l = listener({ chains: [[authnFilter(CLUSTER), routerHttpFilter()]] });
    const out = applyEdgePolicy(l, basic, CLUSTER);
    expect(names(out.listener)).toEqual([[BASIC_AUTH_FILTER_NAME, 'envoy.filters.http.router']]);
    const f = httpFiltersOf(out.listener)[0]![0]!;
    const cfg = basicAuthFilter.BasicAuth.decode(
      f.configType?.$case === 'typedConfig' ? f.configType.value.value : Buffer.alloc(0),
    );
    expect(cfg.users?.specifier).toEqual({
      $case: 'inlineString',
      value: htpasswd('alice', 'wonderland'),
    });
  });

  it('without a policy removes only its own filters; a listener without them is returned as is', () => {
    const mine = listener({
      chains: [[otherHttpFilter(), authnFilter(CLUSTER), routerHttpFilter()]],
    });
    expect(names(applyEdgePolicy(mine, undefined, CLUSTER).listener)).toEqual([
      ['envoy.filters.http.cors', 'envoy.filters.http.router'],
    ]);
    const plain = listener({ chains: [[otherHttpFilter(), routerHttpFilter()]] });
    const out = applyEdgePolicy(plain, undefined, CLUSTER);
    expect(out.listener).toBe(plain);
    expect(out).toMatchObject({ hcms: 1, changed: 0 });
  });

  it('leaves a listener without an HCM untouched', () => {
    const l = tcpListener();
    const before = bytes(l);
    const out = applyEdgePolicy(l, authn, CLUSTER);
    expect(out).toMatchObject({ hcms: 0, changed: 0 });
    expect(out.listener).toBe(l);
    expect(bytes(out.listener).equals(before)).toBe(true);
  });

  it('puts the filter first in an HCM without a router (and says so)', () => {
    const l = listener({ chains: [[otherHttpFilter()]] });
    const out = applyEdgePolicy(l, authn, CLUSTER);
    expect(out.withoutRouter).toBe(1);
    expect(names(out.listener)).toEqual([[AUTHN_FILTER_NAME, 'envoy.filters.http.cors']]);
  });

  it('keeps fields this Envoy API version does not know, in the listener and in the HCM', () => {
    const l = listener({ chains: [[routerHttpFilter()]] });
    // Field 999 (varint 7) on the listener; field 998 (varint 5) inside the HCM.
    const unknown = (tag: number, v: number) => Buffer.from([...varint((tag << 3) | 0), v]);
    const hcmAny = l.filterChains[0]!.filters[0]!.configType!;
    if (hcmAny.$case !== 'typedConfig') throw new Error('fixture');
    hcmAny.value = { ...hcmAny.value, value: Buffer.concat([hcmAny.value.value, unknown(998, 5)]) };
    const wire = Buffer.concat([bytes(l), unknown(999, 7)]);
    const decoded = envoyListener.Listener.decode(wire);
    const out = applyEdgePolicy(decoded, authn, CLUSTER);
    const again = envoyListener.Listener.decode(bytes(out.listener));
    // ts-proto keys unknown fields by their tag (field number << 3 | wire type).
    expect(again._unknownFields?.[999 << 3]).toBeDefined();
    const hcmOut = again.filterChains[0]!.filters[0]!.configType!;
    const hcm = httpConnectionManager.HttpConnectionManager.decode(
      hcmOut.$case === 'typedConfig' ? hcmOut.value.value : Buffer.alloc(0),
    );
    expect(hcm._unknownFields?.[998 << 3]).toBeDefined();
    expect(hcm.httpFilters.map((f) => f.name)).toEqual([
      AUTHN_FILTER_NAME,
      'envoy.filters.http.router',
    ]);
  });

  it('throws on an HCM whose bytes do not decode (the server answers INTERNAL)', () => {
    const l = listener({ chains: [[routerHttpFilter()]] });
    const c = l.filterChains[0]!.filters[0]!.configType!;
    if (c.$case !== 'typedConfig') throw new Error('fixture');
    c.value = { ...c.value, value: Buffer.from([0x0a, 0xff, 0xff, 0xff]) };
    expect(() => applyEdgePolicy(l, authn, CLUSTER)).toThrow();
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
