import { connect } from 'node:net';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { type INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envoyListener } from '@edge/protos';
import { freePort } from '@edge/testkit';
import { createGatewayExtensionApp } from '../src/app';
import { loadGatewayExtensionConfig } from '../src/config/gateway-extension.config';
import { ExtensionServer } from '../src/extension/extension.server';
import { HealthServer } from '../src/health/health-server.service';
import { silentLogger } from '../src/logging/logger';
import {
  edgePolicy,
  listener,
  resource,
  routerHttpFilter,
  tcpListener,
} from '../src/testing/xds-fixtures';
import { HookClient } from './xds-client';

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** The gRPC server as Envoy Gateway calls it: hostile input, idempotence, shutdown. */
describe('gateway-extension gRPC server', () => {
  let app: INestApplicationContext;
  let hooks: HookClient;
  let grpcPort: number;
  let metricsPort: number;
  const policy = [resource(edgePolicy('authn', { authn: {} }))];

  beforeAll(async () => {
    app = await createGatewayExtensionApp(
      loadGatewayExtensionConfig({
        GRPC_PORT: String(await freePort()),
        METRICS_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
        MAX_RESOURCE_BYTES: '4096',
      }),
      silentLogger,
    );
    grpcPort = app.get(ExtensionServer).port;
    metricsPort = app.get(HealthServer).port;
    hooks = new HookClient(grpcPort);
  });

  afterAll(async () => {
    hooks?.close();
    await app?.close();
  });

  it('is idempotent over the wire: the returned listener sent again comes back byte for byte', async () => {
    const l = listener({
      chains: [[routerHttpFilter()], [routerHttpFilter()]],
      defaultChain: [routerHttpFilter()],
    });
    const once = await hooks.listener({
      listener: l,
      postListenerContext: { extensionResources: policy },
    });
    const twice = await hooks.listener({
      listener: once.listener,
      postListenerContext: { extensionResources: policy },
    });
    const enc = (x: envoyListener.Listener | undefined) =>
      Buffer.from(envoyListener.Listener.encode(x!).finish());
    expect(enc(twice.listener).equals(enc(once.listener))).toBe(true);
    expect(enc(once.listener).equals(enc(l))).toBe(false);
  });

  it('answers bad resources (garbage, huge, another kind) with the listener, never an error', async () => {
    const l = tcpListener();
    const res = await hooks.listener({
      listener: l,
      postListenerContext: {
        extensionResources: [
          { unstructuredBytes: Buffer.alloc(2 * 1024 * 1024, 0x7b) },
          { unstructuredBytes: Buffer.from([0xff, 0xfe, 0x00]) },
          resource({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }),
        ],
      },
    });
    expect(Buffer.from(envoyListener.Listener.encode(res.listener!).finish())).toEqual(
      Buffer.from(envoyListener.Listener.encode(l).finish()),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain(
      'gateway_extension_rejected_resources_total{kind="?",reason="Invalid"} 2',
    );
    expect(metrics).toContain(
      'gateway_extension_rejected_resources_total{kind="Secret",reason="Unsupported"} 1',
    );
  });

  it('answers an HCM that does not decode with INTERNAL, counted, and keeps serving', async () => {
    const l = listener({ chains: [[routerHttpFilter()]] });
    const c = l.filterChains[0]!.filters[0]!.configType!;
    if (c.$case === 'typedConfig') c.value = { ...c.value, value: Buffer.from([0x0a, 0xff, 0xff]) };
    const err = await hooks
      .listener({ listener: l, postListenerContext: { extensionResources: policy } })
      .then(
        () => undefined,
        (e: ServiceError) => e,
      );
    expect(err?.code).toBe(grpcStatus.INTERNAL);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain(
      'gateway_extension_hook_calls_total{hook="PostHTTPListenerModify",outcome="error"} 1',
    );
    const ok = await hooks.listener({ listener: tcpListener(), postListenerContext: undefined });
    expect(ok.listener?.name).toBe('default/eg/tcp');
  });

  it('answers unknown HTTP paths with a 404 JSON body', async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ status: 404 });
  });

  it('shuts down gracefully: both ports closed after close()', async () => {
    expect(await canConnect(grpcPort)).toBe(true);
    hooks.close();
    await app.close();
    expect(await canConnect(grpcPort)).toBe(false);
    expect(await canConnect(metricsPort)).toBe(false);
  });
});
