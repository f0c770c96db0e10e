import { type INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '@edge/e2e';
import { freePort, infraBackend, type Started, type EnvoyInfo } from '@edge/testkit';
import { createGatewayExtensionApp } from '../src/app';
import { loadGatewayExtensionConfig } from '../src/config/gateway-extension.config';
import { silentLogger } from '../src/logging/logger';
import {
  edgePolicy,
  edgeRoutePolicy,
  htpasswd,
  otherHttpFilter,
  resource,
  routerHttpFilter,
} from '../src/testing/xds-fixtures';
import { ExtensionServer } from '../src/extension/extension.server';
import { HealthServer } from '../src/health/health-server.service';
import { HookClient } from './xds-client';
import { bootstrapBytes, httpListener, prefixRoute, staticCluster } from './xds-builders';

/**
 * The hooks against a real Envoy: the listener PostHTTPListenerModify returned (with routes
 * from PostRouteModify) and the clusters PostTranslateModify returned, wrapped in a static
 * bootstrap and loaded into the Envoy from the set-up step, in front of the real auth service,
 * authn processor and echo (the e2e stack without audit logging).
 */
describe('gateway-extension hooks in a real Envoy', () => {
  let stack: FrontProxyStack;
  let app: INestApplicationContext;
  let hooks: HookClient;
  let envoy: Started<EnvoyInfo>;
  let metricsPort: number;
  const ports = { authn: 0, basic: 0 };
  let key: { key_id: string; secret: string };

  beforeAll(async () => {
    stack = await startFrontProxyStack({ logging: false });
    app = await createGatewayExtensionApp(
      loadGatewayExtensionConfig({
        GRPC_PORT: String(await freePort()),
        METRICS_PORT: String(await freePort()),
        AUTHN_PROCESSOR_PORT: String(stack.ports.authn),
        LOG_LEVEL: 'warn',
      }),
      silentLogger,
    );
    hooks = new HookClient(app.get(ExtensionServer).port);
    metricsPort = app.get(HealthServer).port;
    ports.authn = await freePort();
    ports.basic = await freePort();

    // PostRouteModify: the admin route needs admin:read (an EdgeRoutePolicy ExtensionRef).
    const admin = await hooks.route({
      route: prefixRoute('admin', '/api/v0/admin', 'echo'),
      postRouteContext: {
        hostnames: ['*'],
        extensionResources: [
          resource(edgeRoutePolicy('admin', { requiredScopes: ['admin:read'] })),
        ],
      },
    });
    const routes = [admin.route!, prefixRoute('api', '/api/v0/', 'echo')];

    // PostHTTPListenerModify: one Gateway with the authn policy, one with basic_auth.
    const authnListener = await hooks.listener({
      listener: httpListener('default/eg/http', ports.authn, routes, [
        otherHttpFilter('envoy.filters.http.health_check.unused'),
        routerHttpFilter(),
      ]),
      postListenerContext: { extensionResources: [resource(edgePolicy('authn', { authn: {} }))] },
    });
    const basicListener = await hooks.listener({
      listener: httpListener('default/eg-basic/http', ports.basic, routes, [routerHttpFilter()]),
      postListenerContext: {
        extensionResources: [
          resource(
            edgePolicy('basic', {
              basicAuth: { users: [htpasswd('alice', 'wonderland'), htpasswd('bob', 'builder')] },
            }),
          ),
        ],
      },
    });
    // PostTranslateModify: Envoy Gateway's clusters come back with the authn processor's.
    const translated = await hooks.translate({
      postTranslateContext: { extensionResources: [] },
      clusters: [staticCluster('echo', stack.ports.sidecar)],
      secrets: [],
      listeners: [],
      routes: [],
    });
    envoy = await infraBackend().envoy({
      name: 'gateway-ext-envoy',
      configProto: bootstrapBytes(
        [authnListener.listener!, basicListener.listener!],
        translated.clusters,
      ),
      readyPorts: [ports.authn, ports.basic],
    });
    key = (await (await fetch(`${stack.authUrl}/create-root-key`)).json()) as typeof key;
  });

  afterAll(async () => {
    hooks?.close();
    await envoy?.stop();
    await app?.close();
    await stack?.stop();
  });

  const url = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
  const basic = (user: string, pw: string) =>
    `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

  it('authn policy: no credentials → 401 JSON from the authn processor', async () => {
    const res = await fetch(url(ports.authn, '/api/v0/echo'));
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { status: number; details: string };
    expect(body.status).toBe(401);
    expect(body.details.split(' ')[0]).toBe('NoCredentials');
  });

  it('authn policy: a valid API key → 200 through to echo, with the identity headers', async () => {
    const res = await fetch(url(ports.authn, '/api/v0/echo'), {
      headers: { authorization: basic(key.key_id, key.secret) },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { path: string; headers: Record<string, string> };
    expect(body.path).toBe('/api/v0/echo');
    expect(body.headers['x-key-id']).toBe(key.key_id);
  });

  it('authn policy: a wrong secret → 401 JSON; a route scope from PostRouteModify → 403', async () => {
    const bad = await fetch(url(ports.authn, '/api/v0/echo'), {
      headers: { authorization: basic(key.key_id, 'x'.repeat(40)) },
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { details: string }).details).toMatch(
      /^(UnknownKey|InvalidSecret|MalformedCredentials)/,
    );
    const admin = await fetch(url(ports.authn, '/api/v0/admin/users'), {
      headers: { authorization: basic(key.key_id, key.secret) },
    });
    expect(admin.status).toBe(403);
    expect(((await admin.json()) as { details: string }).details.split(' ')[0]).toBe(
      'MissingScope',
    );
  });

  it('basic_auth policy: no credentials → 401 with WWW-Authenticate; wrong password → 401; right user → 200', async () => {
    const none = await fetch(url(ports.basic, '/api/v0/echo'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    const wrong = await fetch(url(ports.basic, '/api/v0/echo'), {
      headers: { authorization: basic('alice', 'not-it') },
    });
    expect(wrong.status).toBe(401);
    const other = await fetch(url(ports.basic, '/api/v0/echo'), {
      headers: { authorization: basic('mallory', 'wonderland') },
    });
    expect(other.status).toBe(401);
    const ok = await fetch(url(ports.basic, '/api/v0/echo'), {
      headers: { authorization: basic('alice', 'wonderland') },
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { path: string }).path).toBe('/api/v0/echo');
  });

  it('fails closed: with the authn processor down, a valid key gets no response from echo', async () => {
    await stack.stopPart('authn-processor');
    try {
      const res = await fetch(url(ports.authn, '/api/v0/echo'), {
        headers: { authorization: basic(key.key_id, key.secret) },
      });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(await res.text()).not.toContain('"message":"Hello"');
    } finally {
      await stack.startPart('authn-processor');
    }
    // Back up: the same request passes again (Envoy reconnects to the processor).
    await expect
      .poll(
        async () =>
          (
            await fetch(url(ports.authn, '/api/v0/echo'), {
              headers: { authorization: basic(key.key_id, key.secret) },
            })
          ).status,
        { timeout: 30_000, interval: 250 },
      )
      .toBe(200);
  });

  it('counts the hook calls in /metrics and answers /health', async () => {
    const health = await fetch(`http://127.0.0.1:${metricsPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', grpc: 'serving' });
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain(
      'gateway_extension_hook_calls_total{hook="PostHTTPListenerModify",outcome="ok"} 2',
    );
    expect(metrics).toContain(
      'gateway_extension_hook_calls_total{hook="PostRouteModify",outcome="ok"} 1',
    );
    expect(metrics).toContain(
      'gateway_extension_hook_calls_total{hook="PostTranslateModify",outcome="ok"} 1',
    );
    expect(metrics).toMatch(
      /gateway_extension_hook_duration_seconds_count\{hook="PostHTTPListenerModify"\} 2/,
    );
  });
});
