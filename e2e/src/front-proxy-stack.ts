import { dirname, join } from 'node:path';
import { renderEnvoyConfig } from '@edge/envoy-config';
import { freePort, infraBackend, type PostgresInfo, type Started, stopAll } from '@edge/testkit';

/** Where a built app's entry point is (apps are resolved from the workspace, never copied). */
export function appEntry(pkg: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'main.js');
}

export interface FrontProxyStackOptions {
  /** Extra environment for the auth service (e.g. JWT_TTL_SECONDS). */
  authEnv?: Record<string, string>;
  /** Extra environment for the authn processor. */
  authnEnv?: Record<string, string>;
  /** Envoy worker threads (default 1). */
  envoyConcurrency?: number;
}

export interface FrontProxyStack {
  /** http://127.0.0.1:<port> of the Envoy front proxy. */
  proxyUrl: string;
  /** http://127.0.0.1:<port> of the auth service's HTTP API. */
  authUrl: string;
  envoyAdminUrl: string;
  ports: {
    proxy: number;
    admin: number;
    auth: number;
    authGrpc: number;
    echo: number;
    authn: number;
  };
  postgres: PostgresInfo;
  /** Environment the auth service runs with (to start a second instance on the same DB). */
  authEnv: Record<string, string>;
  /** Stops and restarts one part (e.g. to take the auth service down). */
  stopPart(name: 'auth' | 'authn-processor' | 'echo'): Promise<void>;
  startPart(name: 'auth' | 'authn-processor' | 'echo'): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The quickstart stack as real processes: Postgres, the auth service, echo, the authn processor
 * and Envoy with envoy/front-proxy.yaml, each on its own free port. The same stack the README's
 * stack command runs, so end-to-end tests and benchmarks exercise what users run.
 * With EDGE_INFRA_BACKEND=testcontainers every part runs from its image instead (same ports).
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
    };
    const authEnv = {
      PORT: String(ports.auth),
      GRPC_PORT: String(ports.authGrpc),
      DATABASE_URL: pg.info.url,
      LOG_LEVEL: 'warn',
      ...opts.authEnv,
    };
    const specs = {
      auth: () =>
        infra.nodeService({
          name: 'e2e-auth',
          image: 'auth',
          entry: appEntry('@edge/auth'),
          env: authEnv,
          readyPorts: [ports.authGrpc],
          readyUrl: `http://127.0.0.1:${ports.auth}/health`,
        }),
      echo: () =>
        infra.nodeService({
          name: 'e2e-echo',
          image: 'echo',
          entry: appEntry('@edge/echo'),
          env: { PORT: String(ports.echo), LOG_LEVEL: 'warn' },
          readyUrl: `http://127.0.0.1:${ports.echo}/`,
        }),
      'authn-processor': async () =>
        infra.nodeService({
          name: 'e2e-authn',
          image: 'authn-processor',
          entry: appEntry('@edge/authn-processor'),
          env: {
            GRPC_PORT: String(ports.authn),
            METRICS_PORT: String(await freePort()),
            AUTH_GRPC_URL: `127.0.0.1:${ports.authGrpc}`,
            AUTH_JWKS_URL: `http://127.0.0.1:${ports.auth}/.well-known/jwks.json`,
            LOG_LEVEL: 'warn',
            ...opts.authnEnv,
          },
          readyPorts: [ports.authn],
        }),
    };
    for (const name of ['auth', 'echo', 'authn-processor'] as const) {
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
      }),
      adminPort: ports.admin,
      readyPorts: [ports.proxy],
      concurrency: opts.envoyConcurrency ?? 1,
    });
    started.set('envoy', envoy);
    return {
      proxyUrl: `http://127.0.0.1:${ports.proxy}`,
      authUrl: `http://127.0.0.1:${ports.auth}`,
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
