// A real Envoy against the server, over both ADS variants: serving, a route change within 1 s, a
// NACK that keeps the last good version, ECDS without a listener update, a server restart.
import { ServerCredentials } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvoyInfo, Started } from '@edge/testkit';
import {
  SnapshotCache,
  TypeUrl,
  XdsServer,
  silentLogger,
  type AckEvent,
  type Snapshot,
} from '../src';
import {
  freePort,
  get,
  headerFilter,
  stat,
  startAdsEnvoy,
  startTaggedUpstream,
  topology,
  until,
  upstreamOf,
  type TopologyOptions,
} from './support';

describe.each([
  ['sotw', false],
  ['delta', true],
] as const)('a real Envoy over ADS (%s)', (kind, delta) => {
  const nodeId = `envoy-${kind}`;
  const cache = new SnapshotCache();
  const registry = new Registry();
  let server = new XdsServer({ cache, logger: silentLogger, registry });
  const acks: AckEvent[] = [];
  server.on('ack', (e) => acks.push(e));
  let xdsPort = 0;
  let envoy: Started<EnvoyInfo> | undefined;
  const upstreams: { port: number; close(): Promise<void> }[] = [];
  let base: Omit<TopologyOptions, 'routes'>;

  const set = (routes: [string, string][], ecdsHeader = 'v1'): Snapshot => {
    const s = topology({ ...base, routes, ecdsHeader });
    cache.setSnapshot(nodeId, s);
    return s;
  };

  beforeAll(async () => {
    xdsPort = await server.bind('127.0.0.1', 0, ServerCredentials.createInsecure());
    upstreams.push(await startTaggedUpstream('a'), await startTaggedUpstream('b'));
    base = {
      listenerPort: await freePort(),
      upstreams: { a: upstreams[0]!.port, b: upstreams[1]!.port },
    };
    set([['/', 'a']]);
    envoy = await startAdsEnvoy({ nodeId, xdsPort, delta, readyPorts: [base.listenerPort] });
  });
  afterAll(async () => {
    await envoy?.stop();
    await server.stop(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('serves HTTP through the listener, route, cluster and endpoints it was given', async () => {
    await until('traffic to a', async () => (await upstreamOf(base.listenerPort, '/x')) === 'a');
    const st = server.status().find((n) => n.id === nodeId)!;
    expect(st.streams).toEqual(delta ? { sotw: 0, delta: 1 } : { sotw: 1, delta: 0 });
    expect(st.cluster).toBe('test');
    await until('every type ACKed', () => {
      const s = server.status().find((n) => n.id === nodeId)!;
      const v = cache.getVersions(nodeId)!;
      return Object.values(TypeUrl).every((t) => s.acked[t] === v[t]) && s.pending.length === 0;
    });
    const metrics = await registry.getSingleMetricAsString('xds_acks_total');
    expect(metrics).toMatch(/xds_acks_total\{type="rds"\} [1-9]/);
  });

  it('serves a route change within 1 s', async () => {
    const before = acks.length;
    const t0 = performance.now();
    set([
      ['/b', 'b'],
      ['/', 'a'],
    ]);
    await until(
      'the new route',
      async () => (await upstreamOf(base.listenerPort, '/b/1')) === 'b',
      1000,
      5,
    );
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000);
    expect(await upstreamOf(base.listenerPort, '/other')).toBe('a');
    await until('the RDS ACK', () => acks.slice(before).find((a) => a.typeUrl === TypeUrl.Route));
    const rdsAck = acks.slice(before).find((a) => a.typeUrl === TypeUrl.Route)!;
    console.log(
      `[${kind}] route change: serving after ${ms.toFixed(1)} ms, RDS push→ACK ${rdsAck.latencyMs.toFixed(1)} ms`,
    );
  });

  it('a listener Envoy rejects is NACKed; Envoy keeps serving the last good version; status shows it', async () => {
    const good = cache.getVersions(nodeId)!;
    const lds0 = await stat(envoy!, 'listener_manager.lds.update_rejected');
    const bad = topology({
      ...base,
      routes: [
        ['/b', 'b'],
        ['/', 'a'],
      ],
      ecdsHeader: 'v1',
    });
    // Encodes fine, but Envoy refuses it: the address is not an IP.
    const l = bad.resources[TypeUrl.Listener]![0]!;
    l.value.address = { socket_address: { address: 'not-an-ip', port_value: base.listenerPort } };
    cache.setSnapshot(nodeId, bad);
    const nack = await until(
      'the NACK in status()',
      () => server.status().find((n) => n.id === nodeId)?.lastNack,
    );
    expect(nack.typeUrl).toBe(TypeUrl.Listener);
    expect(nack.version).toBe(cache.getVersions(nodeId)![TypeUrl.Listener]);
    expect(nack.message).toMatch(/not-an-ip|malformed|IP/i);
    expect(server.status().find((n) => n.id === nodeId)?.acked[TypeUrl.Listener]).toBe(
      good[TypeUrl.Listener],
    );
    expect(await stat(envoy!, 'listener_manager.lds.update_rejected')).toBe(lds0 + 1);
    // still serving on the last good listener, and no resend loop
    expect(await upstreamOf(base.listenerPort, '/b/2')).toBe('b');
    const pushes = await registry.getSingleMetricAsString('xds_pushes_total');
    await new Promise((r) => setTimeout(r, 500));
    expect(await registry.getSingleMetricAsString('xds_pushes_total')).toBe(pushes);
    expect(await stat(envoy!, 'listener_manager.lds.update_rejected')).toBe(lds0 + 1);
    // a good snapshot again is taken
    set([['/', 'b']]);
    await until(
      'the fixed config',
      async () => (await upstreamOf(base.listenerPort, '/x')) === 'b',
    );
  });

  it('updates an ECDS filter config without touching the listener', async () => {
    set([['/', 'a']], 'v1');
    await until('header v1', async () => {
      const r = await get(base.listenerPort, '/h');
      return (
        r.status === 200 &&
        (JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-ecds'] === 'v1'
      );
    });
    await until(
      'settled',
      () => server.status().find((n) => n.id === nodeId)?.pending.length === 0,
    );
    const modified = await stat(envoy!, 'listener_manager.listener_modified');
    const added = await stat(envoy!, 'listener_manager.listener_added');
    const ldsOk = await stat(envoy!, 'listener_manager.lds.update_success');
    const s = topology({ ...base, routes: [['/', 'a']], ecdsHeader: 'v1' });
    s.resources[TypeUrl.ExtensionConfig] = [headerFilter('v2')];
    const before = cache.getVersions(nodeId)!;
    const after = cache.setSnapshot(nodeId, s).versions;
    expect(after[TypeUrl.Listener]).toBe(before[TypeUrl.Listener]);
    expect(after[TypeUrl.ExtensionConfig]).not.toBe(before[TypeUrl.ExtensionConfig]);
    await until('header v2', async () => {
      const r = await get(base.listenerPort, '/h');
      return (
        r.status === 200 &&
        (JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-ecds'] === 'v2'
      );
    });
    expect(await stat(envoy!, 'listener_manager.listener_modified')).toBe(modified);
    expect(await stat(envoy!, 'listener_manager.listener_added')).toBe(added);
    expect(await stat(envoy!, 'listener_manager.lds.update_success')).toBe(ldsOk);
    expect(await stat(envoy!, 'listener_manager.total_listeners_draining')).toBe(0);
  });

  it('a new cluster and a route to it, then their removal, under load: no request sees a missing cluster', async () => {
    const c = await startTaggedUpstream('c');
    upstreams.push(c);
    set([['/', 'a']]);
    await until('a', async () => (await upstreamOf(base.listenerPort, '/c/1')) === 'a');
    const seen = new Map<string, number>();
    let running = true;
    const load = (async () => {
      while (running) {
        const u = await upstreamOf(base.listenerPort, '/c/1').catch((e: Error) => e.message);
        seen.set(u, (seen.get(u) ?? 0) + 1);
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    const withC = { ...base, upstreams: { ...base.upstreams, c: c.port } };
    const t0 = performance.now();
    cache.setSnapshot(
      nodeId,
      topology({
        ...withC,
        routes: [
          ['/c', 'c'],
          ['/', 'a'],
        ],
        ecdsHeader: 'v1',
      }),
    );
    await until('c', () => seen.has('c'), 10_000, 5);
    // Envoy ACKs new clusters only once they are warm: their endpoints must not wait for that ACK
    const addMs = performance.now() - t0;
    expect(addMs).toBeLessThan(1000);
    await until('more c', () => (seen.get('c') ?? 0) > 20, 10_000, 10);
    // removing it again: the route leaves c before the cluster goes
    const aBefore = seen.get('a') ?? 0;
    set([['/', 'a']]);
    await until('cluster c removed from Envoy', async () => {
      const clusters = (await get(envoy!.info.adminPort, '/clusters')).body;
      return !/^c::/m.test(clusters) && /^a::/m.test(clusters);
    });
    await until('a again', () => (seen.get('a') ?? 0) > aBefore + 20, 10_000, 10);
    running = false;
    await load;
    expect(Object.fromEntries(seen)).toEqual({ a: expect.any(Number), c: expect.any(Number) });
    console.log(
      `[${kind}] new cluster + route serving after ${addMs.toFixed(1)} ms; requests ${JSON.stringify(Object.fromEntries(seen))}`,
    );
  });

  it('keeps serving while the server restarts, then reconnects and resyncs', async () => {
    set([['/', 'a']]);
    await until('a', async () => (await upstreamOf(base.listenerPort, '/r')) === 'a');
    let failures = 0;
    let served = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          const r = await get(base.listenerPort, '/load');
          if (r.status === 200) served++;
          else failures++;
        } catch {
          failures++;
        }
      }
    })();
    await server.stop(1000);
    await until(
      'Envoy noticed',
      async () => (await stat(envoy!, 'control_plane.connected_state')) === 0,
      10_000,
    );
    const servedWhileDown = served;
    await new Promise((r) => setTimeout(r, 300));
    // a new server process (new cache) with a changed route, on the same port
    const cache2 = new SnapshotCache();
    server = new XdsServer({ cache: cache2, logger: silentLogger });
    const reconnected = new Promise<void>((resolve) => server.once('connect', () => resolve()));
    cache2.setSnapshot(nodeId, topology({ ...base, routes: [['/', 'b']], ecdsHeader: 'v1' }));
    await server.bind('127.0.0.1', xdsPort, ServerCredentials.createInsecure());
    await reconnected;
    await until(
      'the resynced route',
      async () => (await upstreamOf(base.listenerPort, '/r')) === 'b',
      10_000,
    );
    running = false;
    await load;
    expect(failures).toBe(0);
    expect(served).toBeGreaterThan(servedWhileDown);
    expect(await stat(envoy!, 'control_plane.connected_state')).toBe(1);
  });
});
