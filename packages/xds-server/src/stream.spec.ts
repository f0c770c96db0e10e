import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  MemoryCall,
  baseSnapshot,
  cluster,
  deltaReq,
  endpoints,
  sotwReq,
  type DeltaCall,
  type SotwCall,
} from './memory.spec-support';
import { SnapshotCache } from './snapshot-cache';
import { TypeUrl } from './type-url';
import { XdsServer } from './xds-server';
import { silentLogger } from './logger';
import type { NackEvent } from './events';

function setup(ackTimeoutMs = 60_000) {
  const cache = new SnapshotCache();
  const server = new XdsServer({ cache, logger: silentLogger, ackTimeoutMs });
  const nacks: NackEvent[] = [];
  server.on('nack', (e) => nacks.push(e));
  return { cache, server, nacks };
}

function sotw(server: XdsServer): SotwCall {
  const call: SotwCall = new MemoryCall();
  server.handleSotw(call);
  return call;
}

function delta(server: XdsServer): DeltaCall {
  const call: DeltaCall = new MemoryCall();
  server.handleDelta(call);
  return call;
}

/** ACKs every response until nothing more is sent; returns the type URLs sent, in order. */
function ackAll(call: SotwCall, names: Record<string, string[]> = {}): string[] {
  const types: string[] = [];
  for (let r = call.take(); r.length > 0; r = call.take()) {
    for (const res of r) {
      types.push(res.typeUrl);
      call.send(
        sotwReq({
          typeUrl: res.typeUrl,
          versionInfo: res.versionInfo,
          responseNonce: res.nonce,
          resourceNames: names[res.typeUrl] ?? [],
        }),
      );
    }
  }
  return types;
}

/** ACKs every delta response until nothing more is sent. */
function deltaAckAll(call: DeltaCall): void {
  for (let r = call.take(); r.length > 0; r = call.take()) {
    for (const res of r) call.send(deltaReq({ typeUrl: res.typeUrl, responseNonce: res.nonce }));
  }
}

describe('state of the world stream', () => {
  it('answers a wildcard CDS request with every cluster, then ACK records the version', () => {
    const { cache, server } = setup();
    const { versions } = cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    const [res, ...more] = call.take();
    expect(more).toHaveLength(0);
    expect(res?.versionInfo).toBe(versions[TypeUrl.Cluster]);
    expect(res?.resources.map((r) => r.typeUrl)).toEqual([TypeUrl.Cluster, TypeUrl.Cluster]);
    expect(res?.nonce).not.toBe('');
    call.send(sotwReq({ versionInfo: res!.versionInfo, responseNonce: res!.nonce }));
    expect(call.take()).toHaveLength(0);
    const st = server.status()[0];
    expect(st).toMatchObject({ id: 'n1', cluster: 'c1', streams: { sotw: 1, delta: 0 } });
    expect(st?.acked[TypeUrl.Cluster]).toBe(versions[TypeUrl.Cluster]);
    expect(st?.pending).toEqual([]);
  });

  it('waits for a snapshot when the node has none yet', () => {
    const { cache, server } = setup();
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    expect(call.take()).toHaveLength(0);
    cache.setSnapshot('n1', baseSnapshot());
    expect(call.take()).toHaveLength(1);
  });

  it('a NACK is recorded, nothing is re-sent, and the next snapshot is pushed', () => {
    const { cache, server, nacks } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({}));
    const first = call.take()[0]!;
    call.send(sotwReq({ versionInfo: first.versionInfo, responseNonce: first.nonce }));
    const { versions } = cache.setSnapshot('n1', baseSnapshot({ timeoutA: '2s' }));
    const second = call.take()[0]!;
    expect(second.versionInfo).toBe(versions[TypeUrl.Cluster]);
    // Envoy rejects: it sends its last good version and the error
    call.send(
      sotwReq({
        versionInfo: first.versionInfo,
        responseNonce: second.nonce,
        error: 'bad cluster',
      }),
    );
    expect(call.take()).toHaveLength(0);
    expect(nacks).toHaveLength(1);
    expect(nacks[0]).toMatchObject({
      typeUrl: TypeUrl.Cluster,
      version: second.versionInfo,
      message: 'bad cluster',
    });
    const st = server.status()[0]!;
    expect(st.acked[TypeUrl.Cluster]).toBe(first.versionInfo);
    expect(st.lastNack).toMatchObject({
      typeUrl: TypeUrl.Cluster,
      version: second.versionInfo,
      message: 'bad cluster',
    });
    // the same snapshot again: no resend loop
    cache.setSnapshot('n1', baseSnapshot({ timeoutA: '2s' }));
    expect(call.take()).toHaveLength(0);
    // a fixed snapshot is pushed
    cache.setSnapshot('n1', baseSnapshot({ timeoutA: '3s' }));
    expect(call.take()).toHaveLength(1);
  });

  it('ignores requests with a stale nonce', () => {
    const { cache, server, nacks } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({}));
    const first = call.take()[0]!;
    cache.setSnapshot('n1', baseSnapshot({ timeoutA: '2s' }));
    const second = call.take()[0]!;
    call.send(
      sotwReq({
        versionInfo: '',
        responseNonce: first.nonce,
        error: 'late NACK of an old response',
      }),
    );
    expect(nacks).toHaveLength(0);
    expect(call.take()).toHaveLength(0);
    expect(server.status()[0]?.pending).toContain(TypeUrl.Cluster);
    call.send(sotwReq({ versionInfo: second.versionInfo, responseNonce: second.nonce }));
    expect(server.status()[0]?.acked[TypeUrl.Cluster]).toBe(second.versionInfo);
  });

  it('serves named EDS subscriptions and answers a change of names', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Endpoint, resourceNames: ['a'] }));
    const r1 = call.take()[0]!;
    expect(r1.resources).toHaveLength(1);
    call.send(
      sotwReq({
        typeUrl: TypeUrl.Endpoint,
        versionInfo: r1.versionInfo,
        responseNonce: r1.nonce,
        resourceNames: ['a', 'b'],
      }),
    );
    const r2 = call.take()[0]!;
    expect(r2.resources).toHaveLength(2);
    expect(r2.versionInfo).toBe(r1.versionInfo);
    call.send(
      sotwReq({
        typeUrl: TypeUrl.Endpoint,
        versionInfo: r2.versionInfo,
        responseNonce: r2.nonce,
        resourceNames: ['a', 'b'],
      }),
    );
    expect(call.take()).toHaveLength(0);
  });

  it('removes a listener by leaving it out of the LDS response', () => {
    const { cache, server } = setup();
    const snap = baseSnapshot();
    cache.setSnapshot('n1', snap);
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Listener }));
    const r1 = call.take()[0]!;
    expect(r1.resources).toHaveLength(1);
    call.send(
      sotwReq({ typeUrl: TypeUrl.Listener, versionInfo: r1.versionInfo, responseNonce: r1.nonce }),
    );
    cache.setSnapshot('n1', { resources: { ...snap.resources, [TypeUrl.Listener]: [] } });
    const r2 = call.take()[0]!;
    expect(r2.resources).toHaveLength(0);
    expect(r2.versionInfo).not.toBe(r1.versionInfo);
  });

  it('pushes only the types that changed', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    for (const t of [TypeUrl.Cluster, TypeUrl.Listener]) call.send(sotwReq({ typeUrl: t }));
    ackAll(call);
    cache.setSnapshot('n1', baseSnapshot());
    expect(call.take()).toHaveLength(0);
    cache.setSnapshot('n1', baseSnapshot({ timeoutA: '9s' }));
    expect(call.take().map((r) => r.typeUrl)).toEqual([TypeUrl.Cluster]);
  });

  it('sends clusters first and holds routes back until the clusters are ACKed', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    const c1 = call.take()[0]!;
    call.send(
      sotwReq({ typeUrl: TypeUrl.Cluster, versionInfo: c1.versionInfo, responseNonce: c1.nonce }),
    );
    call.send(sotwReq({ typeUrl: TypeUrl.Route, resourceNames: ['r'] }));
    const r1 = call.take()[0]!;
    call.send(
      sotwReq({
        typeUrl: TypeUrl.Route,
        versionInfo: r1.versionInfo,
        responseNonce: r1.nonce,
        resourceNames: ['r'],
      }),
    );
    // a new cluster and a route to it, in one snapshot
    const s = baseSnapshot({ routeCluster: 'c' });
    s.resources[TypeUrl.Cluster]!.push(cluster('c'));
    s.resources[TypeUrl.Endpoint]!.push(endpoints('c', 1003));
    cache.setSnapshot('n1', s);
    const sent = call.take();
    expect(sent.map((r) => r.typeUrl)).toEqual([TypeUrl.Cluster]);
    expect(server.status()[0]?.pending).toEqual([TypeUrl.Cluster, TypeUrl.Route]);
    call.send(
      sotwReq({
        typeUrl: TypeUrl.Cluster,
        versionInfo: sent[0]!.versionInfo,
        responseNonce: sent[0]!.nonce,
      }),
    );
    expect(call.take().map((r) => r.typeUrl)).toEqual([TypeUrl.Route]);
  });

  it('sends endpoints while the clusters wait for their ACK (Envoy ACKs CDS once clusters are warm)', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    call.send(sotwReq({ typeUrl: TypeUrl.Endpoint, resourceNames: ['a', 'b'] }));
    expect(call.take().map((r) => r.typeUrl)).toEqual([TypeUrl.Cluster, TypeUrl.Endpoint]);
  });

  it('removes a cluster only after the route that pointed at it is updated (make before break)', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot({ routeCluster: 'b' }));
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    call.send(sotwReq({ typeUrl: TypeUrl.Route, resourceNames: ['r'] }));
    expect(ackAll(call, { [TypeUrl.Route]: ['r'] })).toEqual([TypeUrl.Cluster, TypeUrl.Route]);
    const withoutB = baseSnapshot({ routeCluster: 'a' });
    withoutB.resources[TypeUrl.Cluster] = [cluster('a')];
    withoutB.resources[TypeUrl.Endpoint] = [endpoints('a', 1001)];
    const { versions } = cache.setSnapshot('n1', withoutB);
    const interim = call.take();
    expect(interim.map((r) => [r.typeUrl, r.resources.length])).toEqual([[TypeUrl.Cluster, 2]]);
    expect(interim[0]!.versionInfo).not.toBe(versions[TypeUrl.Cluster]);
    call.send(
      sotwReq({
        typeUrl: TypeUrl.Cluster,
        versionInfo: interim[0]!.versionInfo,
        responseNonce: interim[0]!.nonce,
      }),
    );
    const routes = call.take();
    expect(routes.map((r) => r.typeUrl)).toEqual([TypeUrl.Route]);
    call.send(
      sotwReq({
        typeUrl: TypeUrl.Route,
        versionInfo: routes[0]!.versionInfo,
        responseNonce: routes[0]!.nonce,
        resourceNames: ['r'],
      }),
    );
    const final = call.take();
    expect(final.map((r) => [r.typeUrl, r.resources.length, r.versionInfo])).toEqual([
      [TypeUrl.Cluster, 1, versions[TypeUrl.Cluster]],
    ]);
  });

  it('stops holding a type back once the ACK timeout passes', async () => {
    const { cache, server } = setup(30);
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    call.send(sotwReq({ typeUrl: TypeUrl.Listener }));
    expect(call.take().map((r) => r.typeUrl)).toEqual([TypeUrl.Cluster]);
    await new Promise((r) => setTimeout(r, 80));
    expect(call.take().map((r) => r.typeUrl)).toEqual([TypeUrl.Listener]);
  });

  it('does not re-send a type to a reconnecting client that has its version', () => {
    const { cache, server } = setup();
    const { versions } = cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster, versionInfo: versions[TypeUrl.Cluster] }));
    expect(call.take()).toHaveLength(0);
    expect(server.status()[0]?.acked[TypeUrl.Cluster]).toBe(versions[TypeUrl.Cluster]);
    call.send(sotwReq({ typeUrl: TypeUrl.Listener, versionInfo: 'old' }));
    expect(call.take()).toHaveLength(1);
  });

  it('logs and ignores an unknown type URL, keeping the stream', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(
      sotwReq({ typeUrl: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret' }),
    );
    expect(call.take()).toHaveLength(0);
    expect(call.status).toBeUndefined();
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    expect(call.take()).toHaveLength(1);
  });

  it('ends a stream whose first request has no node id with INVALID_ARGUMENT', () => {
    const { server } = setup();
    const call = sotw(server);
    call.send(sotwReq({ withNode: false }));
    expect(call.status?.code).toBe(3);
    expect(server.status()).toHaveLength(0);
  });

  it('serves the fallback snapshot to a node without one; a bad fallback is logged, not thrown', () => {
    const cache = new SnapshotCache();
    const good = new XdsServer({
      cache,
      logger: silentLogger,
      nodeSnapshotFallback: () => baseSnapshot(),
    });
    const call = sotw(good);
    call.send(sotwReq({}));
    expect(call.take()).toHaveLength(1);
    const bad = new XdsServer({
      cache: new SnapshotCache(),
      logger: silentLogger,
      nodeSnapshotFallback: () => baseSnapshot({ routeCluster: 'nope' }),
    });
    const call2 = sotw(bad);
    call2.send(sotwReq({}));
    expect(call2.take()).toHaveLength(0);
    expect(call2.status).toBeUndefined();
  });

  it('stop() ends every stream and status shows the node disconnected', async () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = sotw(server);
    call.send(sotwReq({}));
    await server.stop(100);
    expect(call.status?.code).toBe(14);
    const st = server.status()[0]!;
    expect(st.streams).toEqual({ sotw: 0, delta: 0 });
    expect(st.disconnectedAt).toBeDefined();
  });
});

describe('status and metrics', () => {
  it('counts pushes, ACKs and NACKs per type on the registry passed, and streams per kind', async () => {
    const registry = new Registry();
    const cache = new SnapshotCache();
    const server = new XdsServer({ cache, logger: silentLogger, registry });
    cache.setSnapshot('n1', baseSnapshot());
    const a = sotw(server);
    const b = delta(server);
    a.send(sotwReq({}));
    const r = a.take()[0]!;
    a.send(sotwReq({ versionInfo: r.versionInfo, responseNonce: r.nonce }));
    b.send(deltaReq({ typeUrl: TypeUrl.Cluster, subscribe: ['*'] }));
    b.send(deltaReq({ typeUrl: TypeUrl.Cluster, responseNonce: b.take()[0]!.nonce, error: 'x' }));
    const text = await registry.metrics();
    expect(text).toMatch(/xds_pushes_total\{type="cds"\} 2/);
    expect(text).toMatch(/xds_acks_total\{type="cds"\} 1/);
    expect(text).toMatch(/xds_nacks_total\{type="cds"\} 1/);
    expect(text).toMatch(/xds_push_ack_seconds_count\{type="cds"\} 2/);
    expect(text).toMatch(/xds_streams\{kind="sotw"\} 1/);
    expect(text).toMatch(/xds_streams\{kind="delta"\} 1/);
    const [st] = server.status();
    expect(st).toMatchObject({
      id: 'n1',
      streams: { sotw: 1, delta: 1 },
      lastNack: { message: 'x' },
    });
    expect(st?.connectedSince).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(st?.snapshotVersions).toEqual(cache.getVersions('n1'));
    a.emit('cancelled');
    b.emit('end');
    expect(b.ended).toBe(true);
    expect(await registry.getSingleMetricAsString('xds_streams')).toMatch(/kind="sotw"\} 0/);
    expect(server.status()[0]?.streams).toEqual({ sotw: 0, delta: 0 });
  });
});

describe('delta stream', () => {
  it('serves a legacy wildcard, then only changes, then removals', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = delta(server);
    call.send(deltaReq({ typeUrl: TypeUrl.Cluster }));
    const r1 = call.take()[0]!;
    expect(r1.resources.map((r) => r.name).sort()).toEqual(['a', 'b']);
    call.send(deltaReq({ responseNonce: r1.nonce }));
    cache.setSnapshot('n1', baseSnapshot({ timeoutA: '2s' }));
    const r2 = call.take()[0]!;
    expect(r2.resources.map((r) => r.name)).toEqual(['a']);
    expect(r2.removedResources).toEqual([]);
    call.send(deltaReq({ responseNonce: r2.nonce }));
    const s = baseSnapshot({ timeoutA: '2s', routeCluster: 'a' });
    s.resources[TypeUrl.Cluster] = [cluster('a', '2s')];
    s.resources[TypeUrl.Endpoint] = [endpoints('a', 1001)];
    cache.setSnapshot('n1', s);
    const r3 = call.take()[0]!;
    expect(r3.resources).toEqual([]);
    expect(r3.removedResources).toEqual(['b']);
    expect(server.status()[0]?.acked[TypeUrl.Cluster]).toBe(r2.systemVersionInfo);
  });

  it('answers an empty wildcard with an empty response (so Envoy finishes its initial fetch)', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', { resources: {} });
    const call = delta(server);
    call.send(deltaReq({ typeUrl: TypeUrl.Listener, subscribe: ['*'] }));
    const r = call.take();
    expect(r).toHaveLength(1);
    expect(r[0]?.resources).toEqual([]);
  });

  it('subscribes and unsubscribes names; a missing name is reported removed, then sent when it exists', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = delta(server);
    call.send(deltaReq({ typeUrl: TypeUrl.Endpoint, subscribe: ['a', 'zzz'] }));
    const r1 = call.take()[0]!;
    expect(r1.resources.map((r) => r.name)).toEqual(['a']);
    expect(r1.removedResources).toEqual(['zzz']);
    call.send(
      deltaReq({
        typeUrl: TypeUrl.Endpoint,
        responseNonce: r1.nonce,
        unsubscribe: ['a'],
        subscribe: ['b'],
      }),
    );
    const r2 = call.take()[0]!;
    expect(r2.resources.map((r) => r.name)).toEqual(['b']);
    call.send(deltaReq({ typeUrl: TypeUrl.Endpoint, responseNonce: r2.nonce }));
    // a change to the unsubscribed resource is not sent
    const s = baseSnapshot({ portA: 2001 });
    s.resources[TypeUrl.Cluster]!.push(cluster('zzz'));
    s.resources[TypeUrl.Endpoint]!.push(endpoints('zzz', 1009));
    cache.setSnapshot('n1', s);
    const r3 = call.take()[0]!;
    expect(r3.resources.map((r) => r.name)).toEqual(['zzz']);
  });

  it('defers a cluster removal until the route update is ACKed', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot({ routeCluster: 'b' }));
    const call = delta(server);
    call.send(deltaReq({ typeUrl: TypeUrl.Cluster, subscribe: ['*'] }));
    call.send(deltaReq({ typeUrl: TypeUrl.Route, subscribe: ['r'] }));
    deltaAckAll(call);
    const withoutB = baseSnapshot({ routeCluster: 'a' });
    withoutB.resources[TypeUrl.Cluster] = [cluster('a')];
    withoutB.resources[TypeUrl.Endpoint] = [endpoints('a', 1001)];
    cache.setSnapshot('n1', withoutB);
    // nothing changed in the remaining clusters and the removal waits: only the route goes
    const first = call.take();
    expect(first.map((r) => r.typeUrl)).toEqual([TypeUrl.Route]);
    call.send(deltaReq({ typeUrl: TypeUrl.Route, responseNonce: first[0]!.nonce }));
    const second = call.take();
    expect(second.map((r) => [r.typeUrl, r.removedResources])).toEqual([[TypeUrl.Cluster, ['b']]]);
  });

  it('does not re-send what a reconnecting client has (initial_resource_versions)', () => {
    const { cache, server } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const first = delta(server);
    first.send(deltaReq({ typeUrl: TypeUrl.Cluster, subscribe: ['*'] }));
    const versions = Object.fromEntries(first.take()[0]!.resources.map((r) => [r.name, r.version]));
    const again = delta(server);
    again.send(
      deltaReq({
        typeUrl: TypeUrl.Cluster,
        subscribe: ['*'],
        initial: { ...versions, gone: 'v0' },
      }),
    );
    const r = again.take()[0]!;
    expect(r.resources).toEqual([]);
    expect(r.removedResources).toEqual(['gone']);
  });

  it('a NACK is recorded and does not loop; a stale nonce still subscribes', () => {
    const { cache, server, nacks } = setup();
    cache.setSnapshot('n1', baseSnapshot());
    const call = delta(server);
    call.send(deltaReq({ typeUrl: TypeUrl.Endpoint, subscribe: ['a'] }));
    const r1 = call.take()[0]!;
    call.send(deltaReq({ typeUrl: TypeUrl.Endpoint, responseNonce: r1.nonce, error: 'no' }));
    expect(call.take()).toHaveLength(0);
    expect(nacks[0]).toMatchObject({ message: 'no', typeUrl: TypeUrl.Endpoint });
    expect(server.status()[0]?.lastNack?.message).toBe('no');
    call.send(deltaReq({ typeUrl: TypeUrl.Endpoint, responseNonce: 'stale', subscribe: ['b'] }));
    expect(call.take()[0]?.resources.map((r) => r.name)).toEqual(['b']);
    expect(nacks).toHaveLength(1);
  });
});
