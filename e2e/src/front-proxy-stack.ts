import { dirname, join } from 'node:path';
import { renderEnvoyConfig } from '@edge/envoy-config';
import {
  freePort,
  infraBackend,
  type PostgresInfo,
  startNodeService,
  type Started,
  stopAll,
} from '@edge/testkit';

/** Where a built app's entry point is (apps are resolved from the workspace, never copied). */
export function appEntry(pkg: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'main.js');
}

export interface FrontProxyStackOptions {
  /** Extra environment for the auth service (e.g. JWT_TTL_SECONDS). */
  authEnv?: Record<string, string>;
  /** Extra environment for the authn processor. */
  authnEnv?: Record<string, string>;
  /** Extra environment for the idempotency processor (e.g. IDEMPOTENCY_MAX_RESPONSE_BYTES). */
  idempotencyEnv?: Record<string, string>;
  /** Envoy worker threads (default 1). */
  envoyConcurrency?: number;
  /**
   * The auth service serves HTTPS (its TLS_* files come in authEnv): readiness waits on its
   * ports instead of GET /health, and authUrl and the processor's AUTH_JWKS_URL use https.
   */
  authTls?: boolean;
}

/** Parts that can be stopped and started again (same port, fresh state for Redis). */
export type StackPart = 'auth' | 'authn-processor' | 'echo' | 'redis' | 'idempotency-processor';

export interface FrontProxyStack {
  /** http://127.0.0.1:<port> of the Envoy front proxy. */
  proxyUrl: string;
  /** http(s)://127.0.0.1:<port> of the auth service's HTTP API (https with `authTls`). */
  authUrl: string;
  envoyAdminUrl: string;
  ports: {
    proxy: number;
    admin: number;
    auth: number;
    authGrpc: number;
    echo: number;
    authn: number;
    redis: number;
    idempotency: number;
    /** The idempotency processor's GET /metrics and GET /health. */
    idempotencyOps: number;
  };
  postgres: PostgresInfo;
  /** Environment the auth service runs with (to start a second instance on the same DB). */
  authEnv: Record<string, string>;
  /** Stops and restarts one part (e.g. to take the auth service down). */
  stopPart(name: StackPart): Promise<void>;
  startPart(name: StackPart): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The quickstart stack as real processes: Postgres, the auth service, echo, the authn processor,
 * Redis, the idempotency processor and Envoy with envoy/front-proxy.yaml, each on its own free
 * port. The same stack the README's
 * stack command runs, so end-to-end tests and benchmarks exercise what users run.
 */
export async function startFrontProxyStack(
  opts: FrontProxyStackOptions = {},
): Promise<FrontProxyStack> {
  const started = new Map<string, Started<unknown>>();
  const infra = infraBackend();
  try {
    const pg = await infra.postgres({ name: 'e2e-postgres' });
    started.set('postgres', pg);
    const ports = {
      proxy: await freePort(),
      admin: await freePort(),
      auth: await freePort(),
      authGrpc: await freePort(),
      echo: await freePort(),
      authn: await freePort(),
      redis: await freePort(),
      idempotency: await freePort(),
      idempotencyOps: await freePort(),
    };
    const authEnv = {
      PORT: String(ports.auth),
      GRPC_PORT: String(ports.authGrpc),
      DATABASE_URL: pg.info.url,
      LOG_LEVEL: 'warn',
      ...opts.authEnv,
    };
    const authUrl = `${opts.authTls ? 'https' : 'http'}://127.0.0.1:${ports.auth}`;
    const specs = {
      auth: () =>
        startNodeService({
          name: 'e2e-auth',
          entry: appEntry('@edge/auth'),
          env: authEnv,
          ...(opts.authTls
            ? { readyPorts: [ports.authGrpc, ports.auth] }
            : { readyPorts: [ports.authGrpc], readyUrl: `${authUrl}/health` }),
        }),
      echo: () =>
        startNodeService({
          name: 'e2e-echo',
          entry: appEntry('@edge/echo'),
          env: { PORT: String(ports.echo), LOG_LEVEL: 'warn' },
          readyUrl: `http://127.0.0.1:${ports.echo}/`,
        }),
      'authn-processor': async () =>
        startNodeService({
          name: 'e2e-authn',
          entry: appEntry('@edge/authn-processor'),
          env: {
            GRPC_PORT: String(ports.authn),
            METRICS_PORT: String(await freePort()),
            AUTH_GRPC_URL: `127.0.0.1:${ports.authGrpc}`,
            AUTH_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
            LOG_LEVEL: 'warn',
            ...opts.authnEnv,
          },
          readyPorts: [ports.authn],
        }),
      redis: () => infra.redis({ name: 'e2e-redis', port: ports.redis }),
      'idempotency-processor': () =>
        startNodeService({
          name: 'e2e-idempotency',
          entry: appEntry('@edge/idempotency-processor'),
          env: {
            GRPC_PORT: String(ports.idempotency),
            METRICS_PORT: String(ports.idempotencyOps),
            REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
            LOG_LEVEL: 'warn',
            ...opts.idempotencyEnv,
          },
          readyPorts: [ports.idempotency],
          readyUrl: `http://127.0.0.1:${ports.idempotencyOps}/health`,
        }),
    };
    for (const name of [
      'auth',
      'echo',
      'authn-processor',
      'redis',
      'idempotency-processor',
    ] as const) {
      started.set(name, await specs[name]());
    }
    const envoy = await infra.envoy({
      name: 'e2e-front-proxy',
      configYaml: renderEnvoyConfig('front-proxy', {
        LISTEN_HOST: '127.0.0.1',
        FRONT_PROXY_PORT: ports.proxy,
        ADMIN_PORT: ports.admin,
        ECHO_PORT: ports.echo,
        AUTHN_PROCESSOR_PORT: ports.authn,
        IDEMPOTENCY_PROCESSOR_PORT: ports.idempotency,
      }),
      adminPort: ports.admin,
      readyPorts: [ports.proxy],
      concurrency: opts.envoyConcurrency ?? 1,
    });
    started.set('envoy', envoy);
    return {
      proxyUrl: `http://127.0.0.1:${ports.proxy}`,
      authUrl,
      envoyAdminUrl: `http://127.0.0.1:${ports.admin}`,
      ports,
      postgres: pg.info,
      authEnv,
      async stopPart(name) {
        await started.get(name)?.stop();
        started.delete(name);
      },
      async startPart(name) {
        if (!started.has(name)) started.set(name, await specs[name]());
      },
      stop: () => stopAll([...started.values()]),
    };
  } catch (err) {
    await stopAll([...started.values()]).catch(() => undefined);
    throw err;
  }
}
