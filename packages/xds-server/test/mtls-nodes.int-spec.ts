// mTLS is the caller's: with ServerCredentials requiring a client certificate, an Envoy with its
// own CA-signed certificate is served; one without a certificate, or with one from another CA,
// gets nothing. Two nodes get different snapshots. With `authorizeNode` checking the certificate's
// CN (read through grpc-js's auth context), an Envoy with node one's certificate claiming node two
// is refused (PERMISSION_DENIED, counted) and gets nothing.
import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvoyInfo, Started } from '@edge/testkit';
import { Registry } from 'prom-client';
import {
  SnapshotCache,
  XdsServer,
  silentLogger,
  type ConnectEvent,
  type RefuseEvent,
} from '../src';
import {
  admin,
  createPki,
  freePort,
  stat,
  startAdsEnvoy,
  startTaggedUpstream,
  topology,
  until,
  upstreamOf,
  type Pki,
} from './support';

describe('xDS over mTLS, one certificate per Envoy, two nodes', () => {
  const cache = new SnapshotCache();
  const registry = new Registry();
  const server = new XdsServer({
    cache,
    logger: silentLogger,
    registry,
    // The test PKI names a node's certificate `client-<node id>`.
    authorizeNode: (node, peer) =>
      peer.certificate?.subject.CN === `client-${node.id}` ||
      `the client certificate's CN is ${JSON.stringify(peer.certificate?.subject.CN ?? null)}`,
  });
  const connects: ConnectEvent[] = [];
  server.on('connect', (e) => connects.push(e));
  const refusals: RefuseEvent[] = [];
  server.on('refuse', (e) => refusals.push(e));
  const envoys: Started<EnvoyInfo>[] = [];
  const upstreams: { port: number; close(): Promise<void> }[] = [];
  let pki: Pki;
  let xdsPort = 0;

  beforeAll(async () => {
    pki = createPki();
    const creds = ServerCredentials.createSsl(
      readFileSync(pki.ca.cert),
      [{ cert_chain: readFileSync(pki.server.cert), private_key: readFileSync(pki.server.key) }],
      true,
    );
    xdsPort = await server.bind('127.0.0.1', 0, creds);
    upstreams.push(await startTaggedUpstream('a'), await startTaggedUpstream('b'));
  });
  afterAll(async () => {
    await Promise.all(envoys.map((e) => e.stop()));
    await server.stop(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('serves two nodes, each with its own certificate, their own snapshots', async () => {
    const ports = { one: await freePort(), two: await freePort() };
    const ups = { a: upstreams[0]!.port, b: upstreams[1]!.port };
    cache.setSnapshot(
      'node-one',
      topology({ listenerPort: ports.one, upstreams: ups, routes: [['/', 'a']] }),
    );
    cache.setSnapshot(
      'node-two',
      topology({ listenerPort: ports.two, upstreams: ups, routes: [['/', 'b']] }),
    );
    for (const [id, port, delta] of [
      ['node-one', ports.one, false],
      ['node-two', ports.two, true],
    ] as const) {
      const cert = pki.client(id);
      envoys.push(
        await startAdsEnvoy({
          nodeId: id,
          nodeCluster: `cluster-${id}`,
          xdsPort,
          delta,
          tls: { ca: pki.ca.cert, cert: cert.cert, key: cert.key },
          readyPorts: [port],
        }),
      );
    }
    expect(await upstreamOf(ports.one, '/')).toBe('a');
    expect(await upstreamOf(ports.two, '/')).toBe('b');
    // node one's Envoy has no listener on node two's port and the other way round
    const dumpOne = (await admin(envoys[0]!, '/listeners?format=json')).body;
    expect(dumpOne).toContain(String(ports.one));
    expect(dumpOne).not.toContain(String(ports.two));
    const st = server.status();
    expect(st.map((n) => [n.id, n.cluster, n.streams])).toEqual([
      ['node-one', 'cluster-node-one', { sotw: 1, delta: 0 }],
      ['node-two', 'cluster-node-two', { sotw: 0, delta: 1 }],
    ]);
    // a change for one node reaches only that node
    cache.setSnapshot(
      'node-one',
      topology({ listenerPort: ports.one, upstreams: ups, routes: [['/', 'b']] }),
    );
    await until('node one moved to b', async () => (await upstreamOf(ports.one, '/')) === 'b');
    expect(await upstreamOf(ports.two, '/')).toBe('b');
    expect(await stat(envoys[1]!, 'listener_manager.lds.update_success')).toBe(1);
  });

  it('gives nothing to an Envoy without a client certificate or with one from another CA', async () => {
    const before = connects.length;
    const port = await freePort();
    cache.setSnapshot(
      'intruder',
      topology({ listenerPort: port, upstreams: { a: upstreams[0]!.port }, routes: [['/', 'a']] }),
    );
    const noCert = await startAdsEnvoy({
      nodeId: 'intruder',
      xdsPort,
      tls: { ca: pki.ca.cert },
      initialFetchTimeout: '1s',
    });
    envoys.push(noCert);
    const rogue = await startAdsEnvoy({
      nodeId: 'intruder',
      xdsPort,
      tls: { ca: pki.ca.cert, cert: pki.rogueClient.cert, key: pki.rogueClient.key },
      initialFetchTimeout: '1s',
      delta: true,
    });
    envoys.push(rogue);
    // both tried and failed to reach the server, several times
    for (const e of [noCert, rogue]) {
      await until(
        'failed connection attempts',
        async () =>
          (await stat(e, 'cluster.xds.upstream_cx_connect_fail')) +
            (await stat(e, 'cluster.xds.ssl.connection_error')) >=
            2 || (await stat(e, 'cluster.xds.upstream_cx_destroy')) >= 2,
        20_000,
      );
      // Not control_plane.connected_state: in TLS 1.3 the client's handshake completes before
      // the server has checked its certificate, so Envoy opens the gRPC stream and counts itself
      // connected until the server's alert arrives (seen once in CI). What counts is that
      // nothing was delivered: no update accepted, no listener, the server never saw the node.
      expect(await stat(e, 'listener_manager.lds.update_success')).toBe(0);
      expect(await stat(e, 'cluster_manager.cds.update_success')).toBe(0);
    }
    expect(connects.slice(before)).toEqual([]);
    expect(server.status().map((n) => n.id)).not.toContain('intruder');
    for (const e of [noCert, rogue]) {
      expect((await admin(e, '/listeners?format=json')).body).not.toContain(String(port));
    }
  });

  it("refuses an Envoy with node one's valid certificate that claims node two", async () => {
    const before = connects.length;
    const port = await freePort();
    cache.setSnapshot(
      'node-three',
      topology({ listenerPort: port, upstreams: { a: upstreams[0]!.port }, routes: [['/', 'a']] }),
    );
    const cert = pki.client('node-one');
    const impostor = await startAdsEnvoy({
      nodeId: 'node-three',
      xdsPort,
      tls: { ca: pki.ca.cert, cert: cert.cert, key: cert.key },
      initialFetchTimeout: '1s',
    });
    envoys.push(impostor);
    await until(
      'two refusals (Envoy retried)',
      () => Promise.resolve(refusals.length >= 2),
      30_000,
    );
    expect(refusals[0]).toMatchObject({
      node: { id: 'node-three' },
      kind: 'sotw',
      refusal: 'unauthorized',
      message: `node "node-three" refused: the client certificate's CN is "client-node-one"`,
    });
    const counted = (await registry.getSingleMetric('xds_refused_streams_total')?.get())?.values;
    expect(counted?.find((v) => v.labels.reason === 'unauthorized')?.value).toBeGreaterThanOrEqual(
      2,
    );
    expect(await stat(impostor, 'listener_manager.lds.update_success')).toBe(0);
    expect(await stat(impostor, 'cluster_manager.cds.update_success')).toBe(0);
    expect((await admin(impostor, '/listeners?format=json')).body).not.toContain(String(port));
    expect(connects.slice(before)).toEqual([]);
    expect(server.status().map((n) => n.id)).not.toContain('node-three');
    // the honest nodes keep their streams
    expect(server.status().map((n) => [n.id, n.streams.sotw + n.streams.delta])).toEqual([
      ['node-one', 1],
      ['node-two', 1],
    ]);
  });
});
