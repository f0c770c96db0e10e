import { create } from '@bufbuild/protobuf';
import type { PeerCertificate } from 'node:tls';
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema } from '@edge/protos/xds';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { RefuseEvent } from './events';
import type { Logger } from './logger';
import {
  MemoryCall,
  baseSnapshot,
  deltaReq,
  sotwReq,
  type DeltaCall,
  type SotwCall,
} from './memory.spec-support';
import { SnapshotCache } from './snapshot-cache';
import { TypeUrl } from './type-url';
import { XdsServer, type NodeAuthorizer, type XdsPeer } from './xds-server';

const PERMISSION_DENIED = 7;

/** The certificate CN must equal the node id (what the control plane checks, simplified). */
const cnIsNodeId: NodeAuthorizer = (node, peer) =>
  peer.certificate?.subject.CN === node.id ||
  `the client certificate is for ${JSON.stringify(peer.certificate?.subject.CN ?? null)}`;

function setup(authorizeNode?: NodeAuthorizer) {
  const cache = new SnapshotCache();
  cache.setSnapshot('n1', baseSnapshot());
  cache.setSnapshot('victim', baseSnapshot({ portA: 4242 }));
  const registry = new Registry();
  const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields, msg) => warnings.push({ fields, msg }),
    error: (fields, msg) => warnings.push({ fields, msg }),
  };
  const server = new XdsServer({ cache, logger, registry, authorizeNode, ackTimeoutMs: 60_000 });
  const refusals: RefuseEvent[] = [];
  server.on('refuse', (e) => refusals.push(e));
  const pushes: string[] = [];
  server.on('push', (e) => pushes.push(e.node.id));
  return { server, registry, warnings, refusals, pushes };
}

const cert = (cn: string): Partial<PeerCertificate> => ({
  subject: { CN: cn },
  subjectaltname: `URI:spiffe://test/${cn}`,
});

async function refusedCount(registry: Registry, reason: string): Promise<number> {
  const m = await registry.getSingleMetric('xds_refused_streams_total')?.get();
  return m?.values.find((v) => v.labels.reason === reason)?.value ?? -1;
}

describe('authorizeNode', () => {
  it('serves a node whose certificate names it, and passes the authorizer node and peer', () => {
    const seen: [unknown, XdsPeer][] = [];
    const { server } = setup((node, peer) => {
      seen.push([node, peer]);
      return cnIsNodeId(node, peer);
    });
    const call: SotwCall = new MemoryCall(cert('n1'));
    server.handleSotw(call);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    expect(call.take()).toHaveLength(1);
    expect(call.status).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toEqual({ id: 'n1', cluster: 'c1' });
    expect(seen[0]![1].address).toBe('memory');
    expect(seen[0]![1].certificate?.subject.CN).toBe('n1');
    // later requests on the same stream are not re-authorized
    call.send(sotwReq({ typeUrl: TypeUrl.Listener }));
    expect(seen).toHaveLength(1);
    expect(server.status().map((n) => n.id)).toEqual(['n1']);
  });

  it('SotW: a valid certificate for n1 claiming another node gets PERMISSION_DENIED and nothing', async () => {
    const { server, registry, warnings, refusals, pushes } = setup(cnIsNodeId);
    const call: SotwCall = new MemoryCall(cert('n1'));
    server.handleSotw(call);
    call.send(
      create(DiscoveryRequestSchema, {
        typeUrl: TypeUrl.Listener,
        node: { id: 'victim', cluster: 'c1' },
      }),
    );
    expect(call.take()).toEqual([]);
    expect(pushes).toEqual([]);
    expect(call.status?.code).toBe(PERMISSION_DENIED);
    expect(call.status?.details).toBe('node "victim" refused: the client certificate is for "n1"');
    expect(refusals).toEqual([
      expect.objectContaining({
        node: { id: 'victim', cluster: 'c1' },
        kind: 'sotw',
        refusal: 'unauthorized',
      }),
    ]);
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'xds: stream refused',
        fields: expect.objectContaining({ node: 'victim', refusal: 'unauthorized' }),
      }),
    ]);
    expect(await refusedCount(registry, 'unauthorized')).toBe(1);
    expect(await refusedCount(registry, 'node_changed')).toBe(0);
    // the victim's node never appears as connected; the stream is gone
    expect(server.status()).toEqual([]);
    expect(server.recentRefusals()).toEqual([
      expect.objectContaining({ node: { id: 'victim', cluster: 'c1' }, refusal: 'unauthorized' }),
    ]);
    expect((await registry.getSingleMetric('xds_streams')?.get())?.values).toEqual(
      expect.arrayContaining([expect.objectContaining({ labels: { kind: 'sotw' }, value: 0 })]),
    );
    // a request that follows on the dead stream is neither served nor counted again
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    expect(call.take()).toEqual([]);
    expect(await refusedCount(registry, 'unauthorized')).toBe(1);
  });

  it('delta: same refusal, nothing pushed', async () => {
    const { server, registry, pushes } = setup(cnIsNodeId);
    const call: DeltaCall = new MemoryCall(cert('n1'));
    server.handleDelta(call);
    call.send(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: TypeUrl.Cluster,
        node: { id: 'victim', cluster: 'c1' },
      }),
    );
    expect(call.take()).toEqual([]);
    expect(pushes).toEqual([]);
    expect(call.status).toEqual({
      code: PERMISSION_DENIED,
      details: 'node "victim" refused: the client certificate is for "n1"',
    });
    expect(await refusedCount(registry, 'unauthorized')).toBe(1);
  });

  it('refuses without a client certificate, on false with a generic reason, and when the authorizer throws', async () => {
    const noCert = setup(cnIsNodeId);
    const a: SotwCall = new MemoryCall();
    noCert.server.handleSotw(a);
    a.send(sotwReq({}));
    expect(a.status?.details).toBe('node "n1" refused: the client certificate is for null');
    expect(a.take()).toEqual([]);

    const no = setup(() => false);
    const b: DeltaCall = new MemoryCall(cert('n1'));
    no.server.handleDelta(b);
    b.send(deltaReq({}));
    expect(b.status).toEqual({
      code: PERMISSION_DENIED,
      details: 'node "n1" refused: not authorized',
    });

    const broken = setup(() => {
      throw new Error('secret-ish internals');
    });
    const c: SotwCall = new MemoryCall(cert('n1'));
    broken.server.handleSotw(c);
    c.send(sotwReq({}));
    expect(c.status).toEqual({ code: PERMISSION_DENIED, details: 'node "n1" refused' });
    expect(c.take()).toEqual([]);
    expect(await refusedCount(broken.registry, 'authorizer_error')).toBe(1);
  });

  it('ends a stream that changes node.id after it was authorized (SotW and delta)', async () => {
    const { server, registry, refusals } = setup(cnIsNodeId);
    const s: SotwCall = new MemoryCall(cert('n1'));
    server.handleSotw(s);
    s.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    const [cds] = s.take();
    expect(cds).toBeDefined();
    s.send(
      create(DiscoveryRequestSchema, {
        typeUrl: TypeUrl.Listener,
        node: { id: 'victim', cluster: 'c1' },
      }),
    );
    expect(s.take()).toEqual([]);
    expect(s.status).toEqual({
      code: PERMISSION_DENIED,
      details: 'node.id changed on the stream from "n1" to "victim"',
    });

    const d: DeltaCall = new MemoryCall(cert('n1'));
    server.handleDelta(d);
    d.send(deltaReq({ typeUrl: TypeUrl.Cluster }));
    expect(d.take()).toHaveLength(1);
    d.send(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: TypeUrl.Listener,
        node: { id: 'victim', cluster: 'c1' },
      }),
    );
    expect(d.take()).toEqual([]);
    expect(d.status?.code).toBe(PERMISSION_DENIED);
    expect(refusals.map((r) => [r.kind, r.refusal, r.node.id])).toEqual([
      ['sotw', 'node_changed', 'victim'],
      ['delta', 'node_changed', 'victim'],
    ]);
    expect(await refusedCount(registry, 'node_changed')).toBe(2);
    expect(server.status()[0]).toMatchObject({ id: 'n1', streams: { sotw: 0, delta: 0 } });
  });

  it('without authorizeNode, serves the claimed node; a request without node after the first is fine', () => {
    const { server } = setup();
    const call: SotwCall = new MemoryCall();
    server.handleSotw(call);
    call.send(sotwReq({ typeUrl: TypeUrl.Cluster }));
    expect(call.take()).toHaveLength(1);
    call.send(sotwReq({ typeUrl: TypeUrl.Endpoint, resourceNames: ['a'], withNode: false }));
    expect(call.take()).toHaveLength(1);
    expect(call.status).toBeUndefined();
  });

  it('cuts a huge claimed node id in the message', () => {
    const { server } = setup(cnIsNodeId);
    const call: SotwCall = new MemoryCall(cert('n1'));
    server.handleSotw(call);
    call.send(
      create(DiscoveryRequestSchema, {
        typeUrl: TypeUrl.Cluster,
        node: { id: 'x'.repeat(100_000) },
      }),
    );
    expect(call.status?.code).toBe(PERMISSION_DENIED);
    expect(call.status!.details.length).toBeLessThan(300);
  });
});
