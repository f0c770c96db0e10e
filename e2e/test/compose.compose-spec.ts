// The README's quickstart transcript, run unchanged (only its ports moved to free ones) against
// `docker-compose up` of docker-compose.yaml: the whole stack from the images, health-gated.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@edge/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EchoBody, ErrorBody, RootKey } from './support';

const run = promisify(execFile);
const repo = join(__dirname, '..', '..');
const project = `edge-compose-test-${process.pid}`;

/** The commands of the README block that follows "With the stack running:" (`\` lines joined). */
function quickstartTranscript(): string[] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /With the stack running:\s*```sh\n([\s\S]*?)```/.exec(readme);
  if (!block?.[1])
    throw new Error('README.md: no quickstart block after "With the stack running:"');
  return block[1]
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('curl '));
}

describe('docker-compose.yaml: the README quickstart against the compose stack', () => {
  let env: NodeJS.ProcessEnv;
  let ports: Record<string, number>;
  const compose = (...args: string[]) =>
    run('docker-compose', ['-p', project, '-f', join(repo, 'docker-compose.yaml'), ...args], {
      env,
      cwd: repo,
      maxBuffer: 16 * 1024 * 1024,
    });
  const sh = async (line: string): Promise<string> => {
    // The transcript's own command, with the README's ports mapped to this stack's.
    const cmd = line
      .replace('localhost:7000', `localhost:${ports.auth}`)
      .replace('localhost:8080', `localhost:${ports.proxy}`);
    return (await run('bash', ['-c', cmd], { timeout: 30_000 })).stdout;
  };

  beforeAll(async () => {
    ports = {};
    for (const k of ['postgres', 'redis', 'kafka', 'kafkaController', 'auth', 'authGrpc']) {
      ports[k] = await freePort();
    }
    for (const k of ['authn', 'authnMetrics', 'idempotency', 'idempotencyMetrics']) {
      ports[k] = await freePort();
    }
    for (const k of ['logging', 'loggingAccessLog', 'loggingMetrics', 'consumer', 'echo']) {
      ports[k] = await freePort();
    }
    for (const k of ['headerProvider', 'sidecar', 'sidecarAdmin', 'proxy', 'admin']) {
      ports[k] = await freePort();
    }
    for (const k of ['controlPlane', 'controlPlaneXds', 'gatewayExt', 'gatewayExtMetrics']) {
      ports[k] = await freePort();
    }
    const vars: Record<string, string> = {
      EDGE_POSTGRES_PORT: 'postgres',
      EDGE_REDIS_PORT: 'redis',
      EDGE_KAFKA_PORT: 'kafka',
      EDGE_KAFKA_CONTROLLER_PORT: 'kafkaController',
      EDGE_AUTH_PORT: 'auth',
      EDGE_AUTH_GRPC_PORT: 'authGrpc',
      EDGE_AUTHN_PORT: 'authn',
      EDGE_AUTHN_METRICS_PORT: 'authnMetrics',
      EDGE_IDEMPOTENCY_PORT: 'idempotency',
      EDGE_IDEMPOTENCY_METRICS_PORT: 'idempotencyMetrics',
      EDGE_LOGGING_PORT: 'logging',
      EDGE_LOGGING_ACCESS_LOG_PORT: 'loggingAccessLog',
      EDGE_LOGGING_METRICS_PORT: 'loggingMetrics',
      EDGE_CONSUMER_PORT: 'consumer',
      EDGE_ECHO_PORT: 'echo',
      EDGE_HEADER_PROVIDER_PORT: 'headerProvider',
      EDGE_SIDECAR_PORT: 'sidecar',
      EDGE_SIDECAR_ADMIN_PORT: 'sidecarAdmin',
      EDGE_PROXY_PORT: 'proxy',
      EDGE_PROXY_ADMIN_PORT: 'admin',
      EDGE_CONTROL_PLANE_PORT: 'controlPlane',
      EDGE_CONTROL_PLANE_XDS_PORT: 'controlPlaneXds',
      EDGE_GATEWAY_EXTENSION_PORT: 'gatewayExt',
      EDGE_GATEWAY_EXTENSION_METRICS_PORT: 'gatewayExtMetrics',
    };
    env = { ...process.env };
    for (const [name, key] of Object.entries(vars)) env[name] = String(ports[key]);
    // Every EDGE_*_PORT the compose file reads is moved to a free port here.
    const used = new Set(
      readFileSync(join(repo, 'docker-compose.yaml'), 'utf8').match(/EDGE_[A-Z_]+_PORT/g),
    );
    expect([...used].sort()).toEqual(Object.keys(vars).sort());
    await compose('up', '-d').catch(async (err: unknown) => {
      const logs = await compose('logs', '--tail=30').catch(() => ({ stdout: '' }));
      throw new Error(`docker-compose up failed: ${String(err)}\n${logs.stdout}`);
    });
    // Health-gated: when the front proxy is healthy, everything before it was.
    const deadline = Date.now() + 300_000;
    for (;;) {
      const { stdout } = await compose('ps', '-q', 'front-proxy');
      const id = stdout.trim();
      const health = id
        ? (await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', id])).stdout.trim()
        : '';
      if (health === 'healthy') break;
      if (Date.now() > deadline) {
        const logs = await compose('logs', '--tail=30').catch(() => ({ stdout: '' }));
        throw new Error(`front-proxy not healthy after 300 s (${health})\n${logs.stdout}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  });

  afterAll(async () => {
    if (env) await compose('down', '-v', '--remove-orphans', '-t', '10');
  });

  it('started every service from its image, in health order, with host networking only', async () => {
    const services = [
      'postgres',
      'redis',
      'kafka',
      'auth',
      'authn-processor',
      'idempotency-processor',
      'logging-processor',
      'consumer',
      'echo',
      'header-provider',
      'echo-sidecar',
      'front-proxy',
      'control-plane',
      'gateway-extension',
    ];
    const started: Record<string, number> = {};
    for (const s of services) {
      const id = (await compose('ps', '-q', s)).stdout.trim();
      const [network, status, at] = (
        await run('docker', [
          'inspect',
          '-f',
          '{{.HostConfig.NetworkMode}} {{.State.Status}} {{.State.StartedAt}}',
          id,
        ])
      ).stdout
        .trim()
        .split(' ');
      expect({ s, network, status }).toEqual({ s, network: 'host', status: 'running' });
      started[s] = Date.parse(at!);
    }
    expect(started.auth).toBeGreaterThan(started.postgres!);
    expect(started['authn-processor']).toBeGreaterThan(started.auth!);
    expect(started['front-proxy']).toBeGreaterThan(started['authn-processor']!);
    expect(started['idempotency-processor']).toBeGreaterThan(started.redis!);
    expect(started['logging-processor']).toBeGreaterThan(started.kafka!);
    expect(started.consumer).toBeGreaterThan(started.kafka!);
    expect(started['header-provider']).toBeGreaterThan(started.auth!);
    expect(started['echo-sidecar']).toBeGreaterThan(started['header-provider']!);
    expect(started['echo-sidecar']).toBeGreaterThan(started.echo!);
    expect(started['control-plane']).toBeGreaterThan(started.postgres!);
    const beforeProxy = services.filter(
      (x) => !['front-proxy', 'control-plane', 'gateway-extension'].includes(x),
    );
    for (const s of beforeProxy) {
      expect({ s, before: started['front-proxy']! > started[s]! }).toEqual({ s, before: true });
    }
    // No network of its own: compose made none for this project.
    const nets = (await run('docker', ['network', 'ls', '--format', '{{.Name}}'])).stdout;
    expect(nets).not.toContain(project);
  });

  it('runs the control plane and the gateway extension from their images, healthy', async () => {
    for (const s of ['control-plane', 'gateway-extension']) {
      const id = (await compose('ps', '-q', s)).stdout.trim();
      const deadline = Date.now() + 120_000;
      let health = '';
      while (health !== 'healthy' && Date.now() < deadline) {
        health = (
          await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', id])
        ).stdout.trim();
        if (health !== 'healthy') await new Promise((r) => setTimeout(r, 1000));
      }
      expect({ s, health }).toEqual({ s, health: 'healthy' });
    }
    const cp = `http://127.0.0.1:${ports.controlPlane}`;
    expect((await fetch(`${cp}/health`)).status).toBe(200);
    // The admin API wants its token; with it, the dev topology's two nodes are listed.
    const anonymous = await fetch(`${cp}/nodes`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/json/);
    const nodes = await fetch(`${cp}/nodes`, {
      headers: { authorization: 'Bearer dev-only-control-plane-admin-token' },
    });
    expect(nodes.status).toBe(200);
    expect(JSON.stringify(await nodes.json())).toContain('echo-sidecar');
    const metrics = await fetch(`http://127.0.0.1:${ports.gatewayExtMetrics}/metrics`);
    expect(metrics.status).toBe(200);
  });

  it('serves the README transcript unchanged', async () => {
    const lines = quickstartTranscript();
    expect(lines).toEqual([
      'curl -s localhost:7000/create-root-key',
      'curl -s localhost:8080/api/v0/echo',
      'curl -s localhost:8080/api/v0/echo -u KEY_ID:SECRET',
      `curl -s -X POST localhost:8080/api/v0/orders -u KEY_ID:SECRET -H 'Idempotency-Key: "order-1"' -d '{"n":1}'`,
      'curl -s localhost:8080/api/v0/logs/records -u KEY_ID:SECRET',
    ]);
    const root = JSON.parse(await sh(lines[0]!)) as RootKey;
    expect(root.status).toBe('active');
    expect(Buffer.from(root.secret, 'base64url').length).toBeGreaterThanOrEqual(32);
    const withKey = (line: string) =>
      line.replace('KEY_ID:SECRET', `${root.key_id}:${root.secret}`);

    const denied = JSON.parse(await sh(lines[1]!)) as ErrorBody;
    expect(denied).toMatchObject({ status: 401, message: 'Unauthenticated' });

    const echoed = JSON.parse(await sh(withKey(lines[2]!))) as EchoBody;
    expect(echoed).toMatchObject({ command: 'GET', path: '/api/v0/echo', message: 'Hello' });
    expect(echoed.headers['x-key-id']).toBe(root.key_id);
    expect(echoed.headers['x-tenant-id']).toBe(root.tenant);
    expect(echoed.headers.authorization).toBeUndefined();
    // Through echo's sidecar: its Wasm filter added the header provider's workload token (a JWT).
    expect(echoed.headers['x-workload-token']).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);

    // Run once; repeated: the same answer, replayed by the idempotency processor.
    const order = JSON.parse(await sh(withKey(lines[3]!))) as EchoBody;
    expect(order).toMatchObject({ command: 'POST', path: '/api/v0/orders', body: '{"n":1}' });
    const again = await sh(withKey(lines[3]!).replace('curl -s ', 'curl -s -i '));
    expect(again).toMatch(/^idempotent-replayed: true\r?$/im);
    expect(JSON.parse(again.slice(again.indexOf('\r\n\r\n') + 4))).toEqual(order);

    // The tenant's audit records (logging processor -> Kafka -> consumer -> Postgres).
    const deadline = Date.now() + 60_000;
    let records: { path: string; tenant: string }[] = [];
    while (Date.now() < deadline) {
      records = (JSON.parse(await sh(withKey(lines[4]!))) as { records: typeof records }).records;
      if (records.some((r) => r.path === '/api/v0/orders')) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(records.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/api/v0/echo', '/api/v0/orders']),
    );
    expect(records.every((r) => r.tenant === root.tenant)).toBe(true);
  });
});
