import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FrontProxyStack, startFrontProxyStack } from '@edge/e2e';
import { freePort, loadToolPaths } from '@edge/testkit';
import { createGatewayExtensionApp } from '../src/app';
import { loadGatewayExtensionConfig } from '../src/config/gateway-extension.config';
import { silentLogger } from '../src/logging/logger';
import {
  EDGE_POLICY_KIND,
  EDGE_ROUTE_POLICY_KIND,
  POLICY_GROUP,
  POLICY_VERSION,
} from '../src/policy/edge-policy';
import { htpasswd } from '../src/testing/xds-fixtures';

/**
 * The whole flow through a real Envoy Gateway (built from its Go module by
 * scripts/envoy-gateway-flow.sh, which runs this file in a network namespace of its own: Envoy
 * Gateway and its Envoy listen on 0.0.0.0, which there means this namespace's loopback only).
 * Envoy Gateway runs standalone (file provider, Host infrastructure) with the Envoy binary of
 * the set-up step; a Gateway, an HTTPRoute and an EdgePolicy in its resource file go through the
 * extension's hooks to a 401, then a 200 with a valid API key.
 */
const EG_BIN = process.env.EDGE_ENVOY_GATEWAY_BIN;
const WORK = process.env.EDGE_ENVOY_GATEWAY_WORKDIR;
/** The set-up step's Envoy version (.tools/infra.env ENVOY_VERSION). */
const ENVOY_VERSION = process.env.EDGE_ENVOY_VERSION ?? '';

const pin = JSON.parse(
  readFileSync(join(__dirname, '../../../packages/protos/envoy-gateway.json'), 'utf8'),
) as { version: string };

function resources(o: { gatewayPort: number; echoPort: number; policy: object }): string {
  const docs: object[] = [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'eg' },
      spec: {
        controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
        parametersRef: {
          group: 'gateway.envoyproxy.io',
          kind: 'EnvoyProxy',
          name: 'host-envoy',
          namespace: 'envoy-gateway-system',
        },
      },
    },
    {
      // The set-up step's Envoy, not the one Envoy Gateway is built against.
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'EnvoyProxy',
      metadata: { name: 'host-envoy', namespace: 'envoy-gateway-system' },
      spec: { provider: { type: 'Host', host: { envoyVersion: ENVOY_VERSION } } },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'eg', namespace: 'default' },
      spec: {
        gatewayClassName: 'eg',
        listeners: [{ name: 'http', protocol: 'HTTP', port: o.gatewayPort }],
      },
    },
    {
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'Backend',
      metadata: { name: 'echo', namespace: 'default' },
      spec: { endpoints: [{ ip: { address: '127.0.0.1', port: o.echoPort } }] },
    },
    {
      apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
      kind: EDGE_ROUTE_POLICY_KIND,
      metadata: { name: 'admin-read', namespace: 'default' },
      spec: { requiredScopes: ['admin:read'] },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'api', namespace: 'default' },
      spec: {
        parentRefs: [{ name: 'eg' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api/v0/admin' } }],
            filters: [
              {
                type: 'ExtensionRef',
                extensionRef: {
                  group: POLICY_GROUP,
                  kind: EDGE_ROUTE_POLICY_KIND,
                  name: 'admin-read',
                },
              },
            ],
            backendRefs: [{ group: 'gateway.envoyproxy.io', kind: 'Backend', name: 'echo' }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api/v0/' } }],
            backendRefs: [{ group: 'gateway.envoyproxy.io', kind: 'Backend', name: 'echo' }],
          },
        ],
      },
    },
    o.policy,
  ];
  return docs.map((d) => JSON.stringify(d)).join('\n---\n');
}

const edgePolicy = (spec: object) => ({
  apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
  kind: EDGE_POLICY_KIND,
  metadata: { name: 'edge', namespace: 'default' },
  spec: {
    targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'eg' }],
    ...spec,
  },
});

describe(`Envoy Gateway ${pin.version} (standalone) with the gateway extension`, () => {
  let stack: FrontProxyStack;
  let app: INestApplicationContext;
  let eg: ChildProcess | undefined;
  let gatewayPort: number;
  let resourceFile: string;
  let echoPort: number;
  let key: { key_id: string; secret: string };

  beforeAll(async () => {
    if (!EG_BIN || !WORK || !ENVOY_VERSION) {
      throw new Error(
        'run through scripts/envoy-gateway-flow.sh (EDGE_ENVOY_GATEWAY_BIN, _WORKDIR, EDGE_ENVOY_VERSION)',
      );
    }
    const tools = loadToolPaths();
    stack = await startFrontProxyStack({ logging: false });
    echoPort = stack.ports.sidecar;
    const grpcPort = await freePort();
    app = await createGatewayExtensionApp(
      loadGatewayExtensionConfig({
        GRPC_PORT: String(grpcPort),
        METRICS_PORT: '0',
        AUTHN_PROCESSOR_PORT: String(stack.ports.authn),
        LOG_LEVEL: 'warn',
      }),
      silentLogger,
    );
    gatewayPort = await freePort();
    const home = (p: string) => join(WORK, p);
    for (const d of ['config', 'data', 'state', 'run', 'resources'])
      mkdirSync(home(d), { recursive: true });
    // Envoy Gateway's Host infrastructure runs Envoy through func-e: the set-up step's binary
    // where func-e looks for that version, so nothing is downloaded.
    const versionDir = join(home('data'), 'envoy-versions', ENVOY_VERSION, 'bin');
    mkdirSync(versionDir, { recursive: true });
    symlinkSync(tools.envoyBin, join(versionDir, 'envoy'));
    resourceFile = join(home('resources'), 'edge.yaml');
    writeFileSync(
      resourceFile,
      resources({ gatewayPort, echoPort, policy: edgePolicy({ authn: {} }) }),
    );
    const egConfig = {
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'EnvoyGateway',
      gateway: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
      provider: {
        type: 'Custom',
        custom: {
          resource: { type: 'File', file: { paths: [home('resources')] } },
          infrastructure: {
            type: 'Host',
            host: {
              configHome: home('config'),
              dataHome: home('data'),
              stateHome: home('state'),
              runtimeDir: home('run'),
            },
          },
        },
      },
      logging: { level: { default: 'info' } },
      extensionApis: { enableBackend: true },
      extensionManager: {
        policyResources: [{ group: POLICY_GROUP, version: POLICY_VERSION, kind: EDGE_POLICY_KIND }],
        resources: [{ group: POLICY_GROUP, version: POLICY_VERSION, kind: EDGE_ROUTE_POLICY_KIND }],
        hooks: { xdsTranslator: { post: ['HTTPListener', 'Route', 'Translation'] } },
        service: { fqdn: { hostname: '127.0.0.1', port: grpcPort } },
        failOpen: false,
      },
    };
    const configPath = home('envoy-gateway.yaml');
    writeFileSync(configPath, JSON.stringify(egConfig, null, 2));
    const log = createWriteStream(home('envoy-gateway.log'));
    const certgen = spawn(EG_BIN, ['certgen', '--local', '--config-home', home('config')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    certgen.stdout?.pipe(log, { end: false });
    certgen.stderr?.pipe(log, { end: false });
    const code = await new Promise<number | null>((r) => certgen.on('exit', r));
    if (code !== 0)
      throw new Error(`envoy-gateway certgen exited ${code}: see ${home('envoy-gateway.log')}`);
    eg = spawn(EG_BIN, ['server', '--config-path', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    eg.stdout?.pipe(log);
    eg.stderr?.pipe(log);
    key = (await (await fetch(`${stack.authUrl}/create-root-key`)).json()) as typeof key;
  });

  afterAll(async () => {
    if (eg?.pid !== undefined) {
      const exited = new Promise((r) => eg?.once('exit', r));
      process.kill(-eg.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (eg.exitCode === null) process.kill(-eg.pid, 'SIGKILL');
    }
    await app?.close();
    await stack?.stop();
  });

  const url = (path: string) => `http://127.0.0.1:${gatewayPort}${path}`;
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const status = async (path: string, headers: Record<string, string> = {}) => {
    try {
      return (await fetch(url(path), { headers, signal: AbortSignal.timeout(5_000) })).status;
    } catch {
      return 0;
    }
  };

  it('a Gateway, an HTTPRoute and an EdgePolicy (authn): 401 JSON without credentials, then 200 with a valid key', async () => {
    // Envoy Gateway translates, calls the hooks and programs its Envoy: wait for the listener.
    await expect.poll(() => status('/api/v0/echo'), { timeout: 120_000, interval: 500 }).toBe(401);
    const res = await fetch(url('/api/v0/echo'));
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(((await res.json()) as { details: string }).details.split(' ')[0]).toBe('NoCredentials');
    const ok = await fetch(url('/api/v0/echo'), {
      headers: { authorization: basic(key.key_id, key.secret) },
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { headers: Record<string, string> }).headers['x-key-id']).toBe(
      key.key_id,
    );
  });

  it('the EdgeRoutePolicy on a rule (PostRouteModify): the admin route wants admin:read → 403', async () => {
    const res = await fetch(url('/api/v0/admin/x'), {
      headers: { authorization: basic(key.key_id, key.secret) },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { details: string }).details.split(' ')[0]).toBe('MissingScope');
  });

  it('the EdgePolicy switched to basicAuth (file updated): 401 with WWW-Authenticate, then 200 for the user', async () => {
    writeFileSync(
      resourceFile,
      resources({
        gatewayPort,
        echoPort,
        policy: edgePolicy({ basicAuth: { users: [htpasswd('alice', 'wonderland')] } }),
      }),
    );
    await expect
      .poll(() => status('/api/v0/echo', { authorization: basic('alice', 'wonderland') }), {
        timeout: 120_000,
        interval: 500,
      })
      .toBe(200);
    const none = await fetch(url('/api/v0/echo'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});
