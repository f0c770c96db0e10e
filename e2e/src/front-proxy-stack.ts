import { dirname, join } from 'node:path';
import { renderEnvoyConfig } from '@edge/envoy-config';
import {
  freePort,
  infraBackend,
  type KafkaInfo,
  type PostgresInfo,
  startNodeService,
  type Started,
  type StartedKafka,
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
  /** Envoy worker threads (default 1). */
  envoyConcurrency?: number;
  /**
   * Audit logging (Kafka, logging processor, consumer): on by default, as in the dev stack.
   * `false` leaves the logging filter out of the chain and starts none of its parts.
   */
  logging?: false | LoggingStackOptions;
}

export interface LoggingStackOptions {
  /** Envoy does not wait for the logging processor (default true). */
  observabilityMode?: boolean;
  /** Extra environment for the logging processor. */
  processorEnv?: Record<string, string>;
  /** Extra environment for the consumer. */
  consumerEnv?: Record<string, string>;
  /** Start the consumer (default true). */
  consumer?: boolean;
}

/** The parts of the stack that can be stopped and started again. */
export type StackPart = 'auth' | 'authn-processor' | 'echo' | 'logging-processor' | 'consumer';

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
    /** 0 when logging is off. */
    logging: number;
    loggingMetrics: number;
    consumer: number;
  };
  postgres: PostgresInfo;
  /** Undefined when logging is off. */
  kafka: (KafkaInfo & { topic: string; deadLetterTopic: string }) | undefined;
  /** Stop / start the Kafka broker (same port and data): outage tests. */
  stopKafka(): Promise<void>;
  startKafka(): Promise<void>;
  /** http://127.0.0.1:<port> of the consumer (direct, not through the proxy). */
  consumerUrl: string;
  /** Environment the auth service runs with (to start a second instance on the same DB). */
  authEnv: Record<string, string>;
  /** Stops and restarts one part (e.g. to take the auth service down). */
  stopPart(name: StackPart): Promise<void>;
  startPart(name: StackPart): Promise<void>;
  /** SIGKILLs a part (no graceful shutdown), e.g. the consumer mid-batch. */
  killPart(name: StackPart): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The quickstart stack as real processes: Postgres, the auth service, echo, the authn processor
 * and Envoy with envoy/front-proxy.yaml, each on its own free port. The same stack the README's
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
      logging: 0,
      loggingMetrics: 0,
      consumer: 0,
    };
    const logging = opts.logging === false ? undefined : (opts.logging ?? {});
    const topic = 'edge.access-log.v1';
    const deadLetterTopic = 'edge.access-log.v1.dlq';
    let kafka: StartedKafka | undefined;
    if (logging !== undefined) {
      kafka = await infra.kafka({ name: 'e2e-kafka' });
      started.set('kafka', kafka);
      ports.logging = await freePort();
      ports.loggingMetrics = await freePort();
      if (logging.consumer !== false) ports.consumer = await freePort();
    }
    const brokers = kafka?.info.brokers.join(',') ?? '';
    const authEnv = {
      PORT: String(ports.auth),
      GRPC_PORT: String(ports.authGrpc),
      DATABASE_URL: pg.info.url,
      LOG_LEVEL: 'warn',
      ...opts.authEnv,
    };
    const specs = {
      auth: () =>
        startNodeService({
          name: 'e2e-auth',
          entry: appEntry('@edge/auth'),
          env: authEnv,
          readyPorts: [ports.authGrpc],
          readyUrl: `http://127.0.0.1:${ports.auth}/health`,
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
            AUTH_JWKS_URL: `http://127.0.0.1:${ports.auth}/.well-known/jwks.json`,
            LOG_LEVEL: 'warn',
            ...opts.authnEnv,
          },
          readyPorts: [ports.authn],
        }),
      'logging-processor': () =>
        startNodeService({
          name: 'e2e-logging',
          entry: appEntry('@edge/logging-processor'),
          env: {
            GRPC_PORT: String(ports.logging),
            METRICS_PORT: String(ports.loggingMetrics),
            KAFKA_BROKERS: brokers,
            KAFKA_TOPIC: topic,
            LOG_LEVEL: 'warn',
            ...logging?.processorEnv,
          },
          readyPorts: [ports.logging],
          readyUrl: `http://127.0.0.1:${ports.loggingMetrics}/health`,
        }),
      consumer: () =>
        startNodeService({
          name: 'e2e-consumer',
          entry: appEntry('@edge/consumer'),
          env: {
            PORT: String(ports.consumer),
            DATABASE_URL: pg.info.url,
            KAFKA_BROKERS: brokers,
            KAFKA_TOPIC: topic,
            KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
            LOG_LEVEL: 'warn',
            ...logging?.consumerEnv,
          },
          readyUrl: `http://127.0.0.1:${ports.consumer}/health`,
          startTimeoutMs: 60_000,
        }),
    };
    const parts: StackPart[] = ['auth', 'echo', 'authn-processor'];
    if (logging !== undefined) parts.push('logging-processor');
    if (logging !== undefined && logging.consumer !== false) parts.push('consumer');
    for (const name of parts) {
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
        // With logging off the filter is left out of the chain; its cluster is never used.
        LOGGING_PROCESSOR_PORT: ports.logging === 0 ? ports.authn : ports.logging,
        LOGGING_DISABLED: logging === undefined,
        LOGGING_OBSERVABILITY_MODE: logging?.observabilityMode ?? true,
        CONSUMER_PORT: ports.consumer === 0 ? ports.echo : ports.consumer,
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
      kafka: kafka === undefined ? undefined : { ...kafka.info, topic, deadLetterTopic },
      consumerUrl: `http://127.0.0.1:${ports.consumer}`,
      authEnv,
      async stopKafka() {
        if (kafka === undefined) throw new Error('logging is off: no Kafka in this stack');
        await kafka.stopBroker();
      },
      async startKafka() {
        if (kafka === undefined) throw new Error('logging is off: no Kafka in this stack');
        await kafka.startBroker();
      },
      async stopPart(name) {
        await started.get(name)?.stop();
        started.delete(name);
      },
      async killPart(name) {
        const part = started.get(name) as Started<{ pid?: number }> | undefined;
        const pid = part?.info.pid;
        if (part === undefined || pid === undefined) return;
        process.kill(pid, 'SIGKILL');
        await part.stop();
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
