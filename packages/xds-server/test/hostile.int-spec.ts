// Bad clients over real gRPC: undecodable bytes, no node, unknown types, a NACK storm, many
// streams. The server answers each with a status or ignores it, never crashes, and keeps serving.
import {
  ServerCredentials,
  credentials,
  makeGenericClientConstructor,
  status,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema } from '@edge/protos/xds';
import { SnapshotCache, TypeUrl, XdsServer, adsServiceDefinition, silentLogger } from '../src';
import { AdsTestClient } from '../src/testing';
import { topology, until } from './support';

describe('hostile xDS clients', () => {
  const cache = new SnapshotCache();
  const server = new XdsServer({ cache, logger: silentLogger });
  let address = '';

  beforeAll(async () => {
    address = `127.0.0.1:${await server.bind('127.0.0.1', 0, ServerCredentials.createInsecure())}`;
    cache.setSnapshot(
      'n',
      topology({ listenerPort: 1, upstreams: { a: 2 }, routes: [['/', 'a']] }),
    );
  });
  afterAll(() => server.stop(1000));

  async function stillServes(): Promise<void> {
    const c = new AdsTestClient({ address, nodeId: 'n' }).start([{ typeUrl: TypeUrl.Cluster }]);
    const r = await c.waitFor((x) => x.typeUrl === TypeUrl.Cluster);
    expect(r.resources.length).toBeGreaterThan(0);
    c.close();
  }

  it('ends a stream of undecodable bytes with a status, and serves the next client', async () => {
    const Raw = makeGenericClientConstructor(
      {
        ads: {
          path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
          requestStream: true,
          responseStream: true,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      'Raw',
    );
    const client = new Raw(address, credentials.createInsecure());
    const call = client.makeBidiStreamRequest<Buffer, Buffer>(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const code = new Promise<number>((resolve) =>
      call.on('error', (e: { code: number }) => resolve(e.code)),
    );
    call.on('data', () => undefined);
    call.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]));
    expect(await code).not.toBe(status.OK);
    client.close();
    await stillServes();
  });

  it('ends a stream without node id with INVALID_ARGUMENT', async () => {
    const Ads = makeGenericClientConstructor(adsServiceDefinition, 'Ads');
    const client = new Ads(address, credentials.createInsecure());
    const def = adsServiceDefinition.streamAggregatedResources;
    const call = client.makeBidiStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
    );
    const code = new Promise<number>((resolve) =>
      call.on('error', (e: { code: number }) => resolve(e.code)),
    );
    call.on('data', () => undefined);
    call.write(create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Cluster }));
    expect(await code).toBe(status.INVALID_ARGUMENT);
    client.close();
  });

  it('ignores an unknown type URL and keeps the stream', async () => {
    const c = new AdsTestClient({ address, nodeId: 'n' }).start([
      { typeUrl: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret' },
      { typeUrl: 'not even a url' },
    ]);
    c.subscribe(TypeUrl.Cluster, []);
    await c.waitFor((r) => r.typeUrl === TypeUrl.Cluster);
    expect(c.ended).toBe(false);
    expect(c.responses.map((r) => r.typeUrl)).toEqual([TypeUrl.Cluster]);
    c.close();
  });

  it('a client that NACKs everything gets each version once', async () => {
    const c = new AdsTestClient({ address, nodeId: 'n', reject: () => 'no thanks' }).start([
      { typeUrl: TypeUrl.Cluster },
      { typeUrl: TypeUrl.Listener },
    ]);
    await c.waitFor((r) => r.typeUrl === TypeUrl.Listener);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.responses.map((r) => r.typeUrl)).toEqual([TypeUrl.Cluster, TypeUrl.Listener]);
    expect(server.status().find((s) => s.id === 'n')?.lastNack?.message).toBe('no thanks');
    c.close();
  });

  it('serves 200 streams at once and pushes a change to all of them', async () => {
    const clients = Array.from({ length: 200 }, (_, i) =>
      new AdsTestClient({ address, nodeId: 'n', delta: i % 2 === 1 }).start([
        { typeUrl: TypeUrl.Cluster, names: i % 2 === 1 ? ['*'] : [] },
      ]),
    );
    await until('all got clusters', () => clients.every((c) => c.responses.length === 1), 30_000);
    cache.setSnapshot(
      'n',
      topology({ listenerPort: 1, upstreams: { a: 2, b: 3 }, routes: [['/', 'a']] }),
    );
    await until('all got the change', () => clients.every((c) => c.responses.length === 2), 30_000);
    expect(server.status().find((s) => s.id === 'n')?.streams).toEqual({ sotw: 100, delta: 100 });
    for (const c of clients) c.close();
    await until('streams closed', () => {
      const s = server.status().find((x) => x.id === 'n')?.streams;
      return s?.sotw === 0 && s.delta === 0;
    });
    await stillServes();
  });
});
