import { env, loadConfig, z } from '@edge/service-config';

const csv = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s.length > 0),
    );

const int = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** Header names whose values never reach Kafka (matched case-insensitively). */
export const DEFAULT_REDACT_HEADERS =
  'authorization,proxy-authorization,cookie,set-cookie,x-api-key,api-key,x-auth-token,x-access-token,x-amz-security-token,x-csrf-token';
/** Query parameter and JSON body field names whose values never reach Kafka. */
export const DEFAULT_REDACT_FIELDS =
  'password,passwd,secret,client_secret,token,access_token,refresh_token,id_token,api_key,apikey,key_secret,authorization,credentials,private_key';

export const loggingProcessorConfigSchema = z.object({
  /** ext_proc gRPC listener (Envoy's `logging_processor` cluster points here). */
  GRPC_HOST: env.host(),
  GRPC_PORT: env.port(9003),
  /**
   * gRPC access log service (envoy.service.accesslog.v3, Envoy's `logging_access_log`
   * cluster): Envoy's entries for local replies, whose responses ext_proc never sees. 0 = off.
   */
  ACCESS_LOG_PORT: env.port(9203),
  /**
   * How long one half of a request's record (the ext_proc record without a response, or an
   * access-log entry) waits for the other half before it is published alone.
   */
  MERGE_WAIT_MS: int(3_000, 0, 60_000),
  /** Halves held at once; beyond, a new half is published alone at once (never dropped). */
  MERGE_MAX_PENDING: int(50_000, 1, 1_000_000),
  /** GET /metrics (Prometheus) and GET /health; 0 disables the listener. */
  METRICS_PORT: env.port(9103),
  LOG_LEVEL: env.logLevel(),

  /** Comma-separated host:port list. */
  KAFKA_BROKERS: csv('127.0.0.1:59092').pipe(z.array(z.string().min(3)).min(1)),
  KAFKA_CLIENT_ID: z.string().min(1).default('logging-processor'),
  /** Topic of edge.log.v1.AccessRecord messages. */
  KAFKA_TOPIC: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name')
    .default('edge.access-log.v1'),

  /**
   * Records held in memory while Kafka is slow or down. The default holds 10 minutes at
   * 100 requests/s (the issue asks for at least 60 s); beyond it new records are dropped and
   * counted (logging_records_dropped_total).
   */
  BUFFER_MAX_RECORDS: int(60_000, 1, 10_000_000),
  /** Upper bound on the buffered bytes (encoded records), whichever bound is hit first. */
  BUFFER_MAX_BYTES: int(256 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
  /** Records per Kafka produce request. */
  BATCH_MAX_RECORDS: int(500, 1, 10_000),
  /**
   * Encoded bytes per produce request, under the topic's `max.message.bytes` (Kafka's default
   * is 1 MiB per partition batch): records with bodies fill a batch long before 500 records.
   * A batch Kafka still refuses as too large is split; a single record it refuses is dropped
   * and counted (reason `too_large`).
   */
  BATCH_MAX_BYTES: int(900 * 1024, 1024, 64 * 1024 * 1024),
  /**
   * How long a record may wait for companions before a batch is sent. Each produce request has
   * a fixed cost here (kafkajs encoding, a socket write that on loopback also runs the broker's
   * receive path) and in the broker, on the cores the request path shares: fewer, larger batches.
   */
  BATCH_LINGER_MS: int(100, 0, 10_000),
  /** Delay between attempts while Kafka refuses a batch (doubling, capped). */
  PUBLISH_RETRY_INITIAL_MS: int(200, 10, 60_000),
  PUBLISH_RETRY_MAX_MS: int(2_000, 10, 300_000),
  /** Deadline of one produce request (kafkajs requestTimeout). */
  KAFKA_REQUEST_TIMEOUT_MS: int(5_000, 100, 120_000),
  /** On SIGTERM: how long to keep trying to flush what is buffered. */
  SHUTDOWN_FLUSH_TIMEOUT_MS: int(10_000, 0, 300_000),

  /** Headers kept in the record (lower-case names), `*` for all. Redaction applies on top. */
  LOG_REQUEST_HEADERS: csv(
    'user-agent,content-type,content-length,accept,x-forwarded-for,x-envoy-external-address,referer,authorization,cookie,proxy-authorization,x-api-key,idempotency-key',
  ),
  LOG_RESPONSE_HEADERS: csv(
    'content-type,content-length,location,retry-after,set-cookie,www-authenticate',
  ),
  /** Header values replaced by "[redacted]". */
  REDACT_HEADERS: csv(DEFAULT_REDACT_HEADERS),
  /** Query parameters and JSON body fields (any depth) whose values are replaced. */
  REDACT_FIELDS: csv(DEFAULT_REDACT_FIELDS),
  /**
   * Bytes of request/response bodies kept in the record (cut and flagged beyond); 0 = bodies
   * are not logged. Non-zero needs STREAMED body modes in the Envoy filter config.
   */
  LOG_BODY_MAX_BYTES: int(0, 0, 1024 * 1024),
  /**
   * Processor names recognised from Envoy's response code details (`<name>_<Code>`, the
   * details processor-core apps set on immediate responses) and from `edge.<name>` dynamic
   * metadata, for the record's `processors` field.
   */
  KNOWN_PROCESSORS: csv('authn,idempotency'),
});

export type LoggingProcessorConfig = z.infer<typeof loggingProcessorConfigSchema>;

export const LOGGING_PROCESSOR_CONFIG = Symbol('LOGGING_PROCESSOR_CONFIG');

export function loadLoggingProcessorConfig(
  source?: Record<string, string | undefined>,
): LoggingProcessorConfig {
  return loadConfig('logging-processor', loggingProcessorConfigSchema, source);
}
