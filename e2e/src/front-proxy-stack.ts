import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Agent, fetch as tlsFetch } from 'undici';
import {
  type FrontProxyVars,
  headerFilterConfigValue,
  renderNode,
  SIDECAR_HEADER_FILTER,
  type TopologyNode,
  xdsBootstrap,
} from '@edge/envoy-config';
import { HEADER_FILTER_WASM_IMAGE_PATH, headerFilterWasmPath } from '@edge/header-filter-wasm';
import {
  freePort,
  infraBackend,
  type KafkaInfo,
  type PostgresInfo,
  type Started,
  type StartedKafka,
  stopAll,
} from '@edge/testkit';
import {
  CA_SECRET,
  CLIENT_CERT_SECRET,
  CONTROL_PLANE_SAN,
  ensurePki,
  pkiLayout,
} from '@edge/xds-pki';

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
  /** Extra environment for the header provider (e.g. STATIC_HEADERS). */
  headerProviderEnv?: Record<string, string>;
  /** header_cache_expiry of echo's sidecar filter (default 30s). */
  headerCacheExpiry?: string;
  /** Per-client rate limit of the front proxy (default: envoy/src/render.ts FRONT_PROXY_DEFAULTS). */
  envoyVars?: Pick<FrontProxyVars, 'PER_CLIENT_RPS' | 'PER_CLIENT_BURST'>;
  /**
   * The auth service serves HTTPS (its TLS_* files come in authEnv): readiness waits on its
   * ports instead of GET /health, and authUrl and the processor's AUTH_JWKS_URL use https. The
   * CA that signed the server certificate is the processor's AUTH_TLS_CA_FILE (in authnEnv): the
   * stack and the header provider trust it to reach the auth service.
   */
  authTls?: boolean;
  /**
   * Audit logging (Kafka, logging processor, consumer): on by default, as in the dev stack.
   * `false` leaves the logging filter out of the chain and starts none of its parts.
   */
  logging?: false | LoggingStackOptions;
  /**
   * Both Envoys bootstrap from the control plane (apps/control-plane, ADS over mTLS, its admin
   * API in `controlPlane`), as in the dev stack; default: static bootstraps rendered from the same
   * topology nodes.
   */
  xds?: boolean;
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

/** The workload's own API key (a tenant of its own), exchanged by the header provider. */
export interface WorkloadKey {
  keyId: string;
  secret: string;
}

/** Parts that can be stopped and started again (same port, fresh state for Redis). */
export type StackPart =
  | 'auth'
  | 'authn-processor'
  | 'echo'
  | 'redis'
  | 'idempotency-processor'
  | 'header-provider'
  | 'logging-processor'
  | 'consumer';

export interface FrontProxyStack {
  /** http://127.0.0.1:<port> of the Envoy front proxy. */
  proxyUrl: string;
  /** http(s)://127.0.0.1:<port> of the auth service's HTTP API (https with `authTls`). */
  authUrl: string;
  envoyAdminUrl: string;
  /** The front proxy's stdout: its JSON access log, one line per request. */
  envoyAccessLog: string;
  /** Echo's sidecar's stdout: its JSON access log (why echo could not be reached, ...). */
  sidecarAccessLog: string;
  ports: {
    proxy: number;
    admin: number;
    auth: number;
    authGrpc: number;
    echo: number;
    authn: number;
    /** The authn processor's GET /metrics. */
    authnMetrics: number;
    redis: number;
    idempotency: number;
    /** The idempotency processor's GET /metrics and GET /health. */
    idempotencyOps: number;
    /** Echo's sidecar Envoy (the front proxy's echo cluster) and its admin port. */
    sidecar: number;
    sidecarAdmin: number;
    headerProvider: number;
    /** 0 when logging is off. */
    logging: number;
    loggingMetrics: number;
    /** The logging processor's gRPC access log service. */
    loggingAccessLog: number;
    consumer: number;
  };
  workloadKey: WorkloadKey;
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
  /** With `xds`: the control plane's admin API and its bearer token. */
  controlPlane: { url: string; token: string } | undefined;
  /** Stops and restarts one part (e.g. to take the auth service down). */
  stopPart(name: StackPart): Promise<void>;
  startPart(name: StackPart): Promise<void>;
  /** The process id of a running Node part (CPU accounting in tests and benchmarks). */
  pidOf(name: StackPart): number | undefined;
  /** The log file of a running Node part (a test's failure report quotes its tail). */
  logOf(name: StackPart): string | undefined;
  /** SIGKILLs a part (no graceful shutdown), e.g. the consumer mid-batch. */
  killPart(name: StackPart): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts parts concurrently and registers each one that started (so a failure stops them all
 * with the rest of the stack); throws the first failure.
 */
async function startTogether(
  started: Map<string, Started<unknown>>,
  parts: Record<string, () => Promise<Started<unknown>>>,
): Promise<void> {
  const names = Object.keys(parts);
  const results = await Promise.allSettled(names.map((name) => parts[name]!()));
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') started.set(names[i]!, r.value);
  });
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** A new tenant's root key through the auth service's public HTTP API: the workload's identity. */
async function createWorkloadKey(authUrl: string, caFile?: string): Promise<WorkloadKey> {
  const dispatcher =
    caFile === undefined ? undefined : new Agent({ connect: { ca: readFileSync(caFile) } });
  const res = await tlsFetch(`${authUrl}/create-root-key`, {
    signal: AbortSignal.timeout(10_000),
    dispatcher,
  }).finally(() => void dispatcher?.close());
  const body = (await res.json()) as { key_id?: string; secret?: string };
  if (res.status !== 200 || !body.key_id || !body.secret) {
    throw new Error(`workload key: create-root-key answered ${res.status}`);
  }
  return { keyId: body.key_id, secret: body.secret };
}

/**
 * The quickstart stack as real processes: Postgres, the auth service, echo behind its sidecar
 * Envoy (envoy/sidecar.yaml with the Wasm header filter), the header provider, the authn
 * processor, Redis, the idempotency processor and Envoy with envoy/front-proxy.yaml, each on its
 * own free port. The same stack the README's
 * stack command runs, so end-to-end tests and benchmarks exercise what users run.
 * With EDGE_INFRA_BACKEND=testcontainers every part runs from its image instead (same ports).
 */
export async function startFrontProxyStack(
  opts: FrontProxyStackOptions = {},
): Promise<FrontProxyStack> {
  try {
    return await startStackOnce(opts);
  } catch (err) {
    // A free port taken by another process between its pick and a part's bind (suites run side
    // by side): the whole stack again, on new ports. Any other failure is thrown as it is.
    if (!/EADDRINUSE/.test(err instanceof Error ? err.message : String(err))) throw err;
    return startStackOnce(opts);
  }
}

async function startStackOnce(opts: FrontProxyStackOptions): Promise<FrontProxyStack> {
  const started = new Map<string, Started<unknown>>();
  const infra = infraBackend();
  try {
    const logging = opts.logging === false ? undefined : (opts.logging ?? {});
    // Independent parts start together (each still waits for its own readiness).
    await startTogether(started, {
      postgres: () => infra.postgres({ name: 'e2e-postgres' }),
      ...(logging === undefined ? {} : { kafka: () => infra.kafka({ name: 'e2e-kafka' }) }),
    });
    const pg = started.get('postgres') as Started<PostgresInfo>;
    const kafka = started.get('kafka') as StartedKafka | undefined;
    const ports = {
      proxy: await freePort(),
      admin: await freePort(),
      auth: await freePort(),
      authGrpc: await freePort(),
      echo: await freePort(),
      authn: await freePort(),
      authnMetrics: await freePort(),
      redis: await freePort(),
      idempotency: await freePort(),
      idempotencyOps: await freePort(),
      sidecar: await freePort(),
      sidecarAdmin: await freePort(),
      headerProvider: await freePort(),
      logging: 0,
      loggingMetrics: 0,
      loggingAccessLog: 0,
      consumer: 0,
    };
    const topic = 'edge.access-log.v1';
    const deadLetterTopic = 'edge.access-log.v1.dlq';
    if (logging !== undefined) {
      ports.logging = await freePort();
      ports.loggingMetrics = await freePort();
      ports.loggingAccessLog = await freePort();
      if (logging.consumer !== false) ports.consumer = await freePort();
    }
    const brokers = kafka?.info.brokers.join(',') ?? '';
    const authEnv = {
      PORT: String(ports.auth),
      GRPC_PORT: String(ports.authGrpc),
      DATABASE_URL: pg.info.url,
      LOG_LEVEL: 'warn',
      // The local stack's explicit opt-in to the development secrets (loopback only).
      AUTH_DEV_MODE: '1',
      ...opts.authEnv,
    };
    const workload: { key?: WorkloadKey } = {};
    const authUrl = `${opts.authTls ? 'https' : 'http'}://127.0.0.1:${ports.auth}`;
    const authCaFile = opts.authTls ? opts.authnEnv?.AUTH_TLS_CA_FILE : undefined;
    if (opts.authTls && authCaFile === undefined) {
      throw new Error('authTls needs authnEnv.AUTH_TLS_CA_FILE (the CA of the server certificate)');
    }
    const specs = {
      auth: () =>
        infra.nodeService({
          name: 'e2e-auth',
          image: 'auth',
          entry: appEntry('@edge/auth'),
          env: authEnv,
          ...(opts.authTls
            ? { readyPorts: [ports.authGrpc, ports.auth] }
            : { readyPorts: [ports.authGrpc], readyUrl: `${authUrl}/health` }),
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
            METRICS_PORT: String(ports.authnMetrics),
            AUTH_GRPC_URL: `127.0.0.1:${ports.authGrpc}`,
            AUTH_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
            LOG_LEVEL: 'warn',
            ...opts.authnEnv,
          },
          readyPorts: [ports.authn],
        }),
      redis: () => infra.redis({ name: 'e2e-redis', port: ports.redis }),
      'idempotency-processor': () =>
        infra.nodeService({
          name: 'e2e-idempotency',
          image: 'idempotency-processor',
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
      'header-provider': () =>
        infra.nodeService({
          name: 'e2e-header-provider',
          image: 'header-provider',
          entry: appEntry('@edge/header-provider'),
          env: {
            PORT: String(ports.headerProvider),
            AUTH_URL: authUrl,
            // Node's own CA list plus the test CA, when the auth service serves HTTPS.
            ...(authCaFile === undefined ? {} : { NODE_EXTRA_CA_CERTS: authCaFile }),
            WORKLOAD_KEY_ID: workload.key?.keyId ?? '',
            WORKLOAD_KEY_SECRET: workload.key?.secret ?? '',
            LOG_LEVEL: 'warn',
            ...opts.headerProviderEnv,
          },
          // /health answers 200 once the first workload token is held.
          readyUrl: `http://127.0.0.1:${ports.headerProvider}/health`,
        }),
      'logging-processor': () =>
        infra.nodeService({
          name: 'e2e-logging',
          image: 'logging-processor',
          entry: appEntry('@edge/logging-processor'),
          env: {
            GRPC_PORT: String(ports.logging),
            METRICS_PORT: String(ports.loggingMetrics),
            ACCESS_LOG_PORT: String(ports.loggingAccessLog),
            KAFKA_BROKERS: brokers,
            KAFKA_TOPIC: topic,
            LOG_LEVEL: 'warn',
            ...logging?.processorEnv,
          },
          readyPorts: [ports.logging, ports.loggingAccessLog],
          readyUrl: `http://127.0.0.1:${ports.loggingMetrics}/health`,
        }),
      consumer: () =>
        infra.nodeService({
          name: 'e2e-consumer',
          image: 'consumer',
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
    // In dependency order; the parts of one step start together.
    const steps: StackPart[][] = [
      ['auth', 'echo', 'redis'],
      ['authn-processor', 'idempotency-processor'],
    ];
    if (logging !== undefined) steps[0]!.push('logging-processor');
    if (logging !== undefined && logging.consumer !== false) steps[0]!.push('consumer');
    for (const step of steps) {
      await startTogether(started, Object.fromEntries(step.map((name) => [name, specs[name]])));
    }
    const workloadKey = await createWorkloadKey(authUrl, authCaFile);
    workload.key = workloadKey;
    started.set('header-provider', await specs['header-provider']());
    // The two Envoys as topology nodes: rendered as static bootstraps, or served by the control
    // plane (same nodes, split into xDS resources).
    const sidecarNode: TopologyNode = {
      id: 'echo-sidecar',
      cluster: 'echo',
      config: 'sidecar',
      vars: {
        LISTEN_HOST: '127.0.0.1',
        SIDECAR_PORT: ports.sidecar,
        ADMIN_PORT: ports.sidecarAdmin,
        APP_PORT: ports.echo,
        HEADER_PROVIDER_PORT: ports.headerProvider,
        // The module the Envoy runs with: the built one locally, the image's in a container.
        HEADER_FILTER_WASM:
          infra.kind === 'testcontainers' ? HEADER_FILTER_WASM_IMAGE_PATH : headerFilterWasmPath(),
        HEADER_FILTER_CONFIG: headerFilterConfigValue({
          ...SIDECAR_HEADER_FILTER,
          header_cache_expiry: opts.headerCacheExpiry ?? '30s',
        }),
      },
    };
    const frontNode: TopologyNode = {
      id: 'front-proxy',
      cluster: 'front-proxy',
      config: 'front-proxy',
      vars: {
        LISTEN_HOST: '127.0.0.1',
        FRONT_PROXY_PORT: ports.proxy,
        ADMIN_PORT: ports.admin,
        // The front proxy reaches echo through echo's sidecar.
        ECHO_PORT: ports.sidecar,
        AUTHN_PROCESSOR_PORT: ports.authn,
        IDEMPOTENCY_PROCESSOR_PORT: ports.idempotency,
        // With logging off the filter is left out of the chain; its cluster is never used.
        LOGGING_PROCESSOR_PORT: ports.logging === 0 ? ports.authn : ports.logging,
        LOGGING_ACCESS_LOG_PORT:
          ports.loggingAccessLog === 0 ? ports.authn : ports.loggingAccessLog,
        LOGGING_DISABLED: logging === undefined,
        LOGGING_OBSERVABILITY_MODE: logging?.observabilityMode ?? true,
        CONSUMER_PORT: ports.consumer === 0 ? ports.echo : ports.consumer,
        ...opts.envoyVars,
      },
    };
    let bootstrap = renderNode;
    let controlPlane: { url: string; token: string } | undefined;
    if (opts.xds) {
      if (infra.kind === 'testcontainers') {
        // The Envoys' bootstraps name their SDS files (client certificate, CA) on the host.
        throw new Error(
          'xds: the control-plane stack runs on local processes only (EDGE_INFRA_BACKEND=local)',
        );
      }
      const dir = mkdtempSync(join(tmpdir(), 'e2e-xds-'));
      const pkiDir = join(dir, 'pki');
      ensurePki(pkiDir, [sidecarNode.id, frontNode.id]);
      writeFileSync(
        join(dir, 'topology.json'),
        JSON.stringify({ nodes: [sidecarNode, frontNode] }),
      );
      const cpPort = await freePort();
      const xdsPort = await freePort();
      const token = 'e2e-control-plane-admin-token-0123456789';
      started.set(
        'control-plane',
        await infra.nodeService({
          name: 'e2e-control-plane',
          image: 'control-plane',
          entry: appEntry('@edge/control-plane'),
          env: {
            DATABASE_URL: pg.info.url,
            PORT: String(cpPort),
            XDS_PORT: String(xdsPort),
            ADMIN_TOKEN: token,
            TOPOLOGY: join(dir, 'topology.json'),
            XDS_PKI_DIR: pkiDir,
            LOG_LEVEL: 'warn',
          },
          readyUrl: `http://127.0.0.1:${cpPort}/health`,
          readyPorts: [cpPort, xdsPort],
          startTimeoutMs: 60_000,
        }),
      );
      controlPlane = { url: `http://127.0.0.1:${cpPort}`, token };
      bootstrap = (node: TopologyNode) => {
        const files = pkiLayout(pkiDir).node(node.id);
        return xdsBootstrap(renderNode(node), {
          nodeId: node.id,
          nodeCluster: node.cluster,
          controlPlaneHost: '127.0.0.1',
          controlPlanePort: xdsPort,
          clientCert: { path: files.sdsCert, secret: CLIENT_CERT_SECRET },
          ca: { path: files.sdsCa, secret: CA_SECRET },
          controlPlaneSan: CONTROL_PLANE_SAN,
        });
      };
    }
    const sidecar = await infra.envoy({
      name: 'e2e-echo-sidecar',
      configYaml: bootstrap(sidecarNode),
      adminPort: ports.sidecarAdmin,
      readyPorts: [ports.sidecar],
      concurrency: opts.envoyConcurrency ?? 1,
    });
    started.set('sidecar', sidecar);
    const envoy = await infra.envoy({
      name: 'e2e-front-proxy',
      configYaml: bootstrap(frontNode),
      adminPort: ports.admin,
      readyPorts: [ports.proxy],
      concurrency: opts.envoyConcurrency ?? 1,
    });
    started.set('envoy', envoy);
    return {
      proxyUrl: `http://127.0.0.1:${ports.proxy}`,
      authUrl,
      envoyAdminUrl: `http://127.0.0.1:${ports.admin}`,
      envoyAccessLog: envoy.info.stdoutLogFile ?? '',
      sidecarAccessLog: sidecar.info.stdoutLogFile ?? '',
      ports,
      workloadKey,
      postgres: pg.info,
      kafka: kafka === undefined ? undefined : { ...kafka.info, topic, deadLetterTopic },
      consumerUrl: `http://127.0.0.1:${ports.consumer}`,
      authEnv,
      controlPlane,
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
      pidOf(name) {
        return (started.get(name) as Started<{ pid?: number }> | undefined)?.info.pid;
      },
      logOf(name) {
        return (started.get(name) as Started<{ logFile?: string }> | undefined)?.info.logFile;
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
