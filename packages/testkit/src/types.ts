/** A running piece of infrastructure. `stop()` is idempotent. */
export interface Started<TInfo> {
  readonly info: TInfo;
  stop(): Promise<void>;
}

export interface PostgresInfo {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  url: string;
}

export interface RedisInfo {
  host: string;
  port: number;
  url: string;
}

export interface KafkaInfo {
  brokers: string[];
}

/** A started Kafka whose broker can be taken down and brought back (same ports, same data). */
export interface StartedKafka extends Started<KafkaInfo> {
  /** Stops the broker process; the data dir stays (for outage tests). */
  stopBroker(): Promise<void>;
  /** Starts it again on the same ports and data; resolves when it serves metadata. */
  startBroker(): Promise<void>;
}

export interface EnvoyInfo {
  host: string;
  adminPort: number;
  /** Envoy's stdout (where a `StdoutAccessLog` writes), for tests that read the access log. */
  stdoutLogFile?: string;
}

/** Options every part takes. */
export interface PartOptions {
  /** Used in the data dir name and in error messages. Defaults to the part's kind. */
  name?: string;
  /** TCP port on 127.0.0.1. Defaults to a free OS-assigned port. */
  port?: number;
  /**
   * Keep the data across runs in `<repo>/.local/dev/<name>` (for the dev stack; `name` is
   * required). Default false: a fresh `<repo>/.local/<name>-<pid>-<random>` removed on stop.
   */
  persistent?: boolean;
  /** How long to wait for readiness before failing with the tail of the log. */
  startTimeoutMs?: number;
}

export interface PostgresOptions extends PartOptions {
  /** Database created at start (if missing). Default `edge`. */
  database?: string;
}

export interface KafkaOptions extends PartOptions {
  /** Port of the KRaft controller listener. Defaults to a free port. */
  controllerPort?: number;
}

export interface EnvoyOptions extends Omit<PartOptions, 'port' | 'persistent'> {
  /**
   * The bootstrap config, as YAML (`configYaml`) or as a binary envoy.config.bootstrap.v3.Bootstrap
   * (`configProto`: xDS built as protobuf, e.g. a listener an Envoy Gateway hook returned); one
   * of the two. Its `admin` block, if any, is replaced by one on 127.0.0.1:adminPort.
   */
  configYaml?: string;
  configProto?: Uint8Array;
  /** Defaults to a free port. */
  adminPort?: number;
  /** Listener ports (chosen by the caller) that must accept connections before start resolves. */
  readyPorts?: number[];
  /** Envoy `-l` log level. Default `warn`. */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical' | 'off';
  /** Envoy `--concurrency` (worker threads). Default 1: tests run on small machines. */
  concurrency?: number;
}

/** Options of a project app run by a backend (a local `node dist/main.js`, or its image). */
export interface NodeServiceOptions {
  /** Used in the data dir / container name, log file name and error messages. */
  name: string;
  /** Absolute path of the built entry point, e.g. `apps/auth/dist/main.js` (local backend). */
  entry: string;
  /** The app's image name without tag, e.g. `auth` for `edge/auth:<tag>` (testcontainers backend). */
  image?: string;
  /** The service's environment (merged over a minimal base: PATH, HOME, NODE_ENV=test). */
  env: Record<string, string>;
  /** Ready when each of these loopback ports accepts connections... */
  readyPorts?: number[];
  /** ...and this URL answers with any HTTP status below 500. */
  readyUrl?: string;
  startTimeoutMs?: number;
}

export interface NodeServiceInfo {
  name: string;
  /** The local process id (undefined for a container). */
  pid: number | undefined;
  logFile: string;
}

export interface InfraBackend {
  readonly kind: 'local' | 'testcontainers';
  postgres(opts?: PostgresOptions): Promise<Started<PostgresInfo>>;
  redis(opts?: PartOptions): Promise<Started<RedisInfo>>;
  kafka(opts?: KafkaOptions): Promise<StartedKafka>;
  envoy(opts: EnvoyOptions): Promise<Started<EnvoyInfo>>;
  /** One of the project's apps: `node <entry>` locally, its image with testcontainers. */
  nodeService(opts: NodeServiceOptions): Promise<Started<NodeServiceInfo>>;
}
