import { ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvoyInfo, Started } from '@edge/testkit';
import { SnapshotCache, TypeUrl, XdsServer, silentLogger } from '../src';
import { freePort, get, startAdsEnvoy, startTaggedUpstream, topology, until } from './support';

describe('ADS state of the world with a real Envoy', () => {
  const cache = new SnapshotCache();
  const server = new XdsServer({ cache, logger: silentLogger });
  let xdsPort = 0;
  let envoy: Started<EnvoyInfo> | undefined;
  const upstreams: { port: number; close(): Promise<void> }[] = [];

  beforeAll(async () => {
    xdsPort = await server.bind('127.0.0.1', 0, ServerCredentials.createInsecure());
    upstreams.push(await startTaggedUpstream('a'), await startTaggedUpstream('b'));
  });
  afterAll(async () => {
    await envoy?.stop();
    await server.stop(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('serves a listener, route, cluster and endpoints; a route change serves within 1 s', async () => {
    const listenerPort = await freePort();
    const [a, b] = upstreams;
    const base = { listenerPort, upstreams: { a: a!.port, b: b!.port } };
    cache.setSnapshot('node-1', topology({ ...base, routes: [['/', 'a']] }));
    envoy = await startAdsEnvoy({ nodeId: 'node-1', xdsPort, readyPorts: [listenerPort] });
    const first = await until('traffic to a', async () => {
      const r = await get(listenerPort, '/x');
      return r.status === 200 && r;
    });
    expect(JSON.parse(first.body)).toMatchObject({ upstream: 'a', path: '/x' });

    const changed = performance.now();
    cache.setSnapshot(
      'node-1',
      topology({
        ...base,
        routes: [
          ['/b', 'b'],
          ['/', 'a'],
        ],
      }),
    );
    await until(
      'the new route',
      async () =>
        (JSON.parse((await get(listenerPort, '/b/1')).body) as { upstream: string }).upstream ===
        'b',
      1000,
      5,
    );
    const ms = performance.now() - changed;
    expect(ms).toBeLessThan(1000);
    const st = server.status().find((n) => n.id === 'node-1');
    expect(st?.streams.sotw).toBe(1);
    expect(st?.acked[TypeUrl.Route]).toBe(cache.getVersions('node-1')?.[TypeUrl.Route]);
  });
});
