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

/** The shell lines of the README block that follows "With the stack running:". */
function quickstartTranscript(): string[] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /With the stack running:\s*```sh\n([\s\S]*?)```/.exec(readme);
  if (!block?.[1])
    throw new Error('README.md: no quickstart block after "With the stack running:"');
  return block[1]
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
    for (const k of ['authn', 'authnMetrics', 'echo', 'proxy', 'admin']) {
      ports[k] = await freePort();
    }
    env = {
      ...process.env,
      EDGE_POSTGRES_PORT: String(ports.postgres),
      EDGE_REDIS_PORT: String(ports.redis),
      EDGE_KAFKA_PORT: String(ports.kafka),
      EDGE_KAFKA_CONTROLLER_PORT: String(ports.kafkaController),
      EDGE_AUTH_PORT: String(ports.auth),
      EDGE_AUTH_GRPC_PORT: String(ports.authGrpc),
      EDGE_AUTHN_PORT: String(ports.authn),
      EDGE_AUTHN_METRICS_PORT: String(ports.authnMetrics),
      EDGE_ECHO_PORT: String(ports.echo),
      EDGE_PROXY_PORT: String(ports.proxy),
      EDGE_PROXY_ADMIN_PORT: String(ports.admin),
    };
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
      'echo',
      'front-proxy',
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
    expect(started['front-proxy']).toBeGreaterThan(started.echo!);
    // No network of its own: compose made none for this project.
    const nets = (await run('docker', ['network', 'ls', '--format', '{{.Name}}'])).stdout;
    expect(nets).not.toContain(project);
  });

  it('serves the README transcript unchanged', async () => {
    const lines = quickstartTranscript();
    expect(lines).toEqual([
      'curl -s localhost:7000/create-root-key',
      'curl -s localhost:8080/api/v0/echo',
      'curl -s localhost:8080/api/v0/echo -u KEY_ID:SECRET',
    ]);
    const root = JSON.parse(await sh(lines[0]!)) as RootKey;
    expect(root.status).toBe('active');
    expect(Buffer.from(root.secret, 'base64url').length).toBeGreaterThanOrEqual(32);

    const denied = JSON.parse(await sh(lines[1]!)) as ErrorBody;
    expect(denied).toMatchObject({ status: 401, message: 'Unauthenticated' });

    const echoed = JSON.parse(
      await sh(lines[2]!.replace('KEY_ID:SECRET', `${root.key_id}:${root.secret}`)),
    ) as EchoBody;
    expect(echoed).toMatchObject({ command: 'GET', path: '/api/v0/echo', message: 'Hello' });
    expect(echoed.headers['x-key-id']).toBe(root.key_id);
    expect(echoed.headers['x-tenant-id']).toBe(root.tenant);
    expect(echoed.headers.authorization).toBeUndefined();
  });
});
