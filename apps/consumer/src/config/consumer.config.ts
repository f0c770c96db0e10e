import { env, loadConfig, z } from '@edge/service-config';

const csv = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    );
const int = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);
const topic = (def: string) =>
  z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name')
    .default(def);

/** The consumer's whole environment, read once at boot. */
export const consumerConfigSchema = z.object({
  HOST: env.host(),
  /** HTTP: query API (/api/v0/logs/..., /api/v0/admin/logs/...), /health, /metrics, /docs. */
  PORT: env.port(7300),
  LOG_LEVEL: env.logLevel(),
  DATABASE_URL: env.url(),
  /** 0 = wait for Postgres forever at start-up. */
  DB_CONNECT_MAX_ATTEMPTS: z.coerce.number().int().min(0).default(0),
  DB_CONNECT_RETRY_DELAY_MS: z.coerce.number().int().min(50).default(1000),

  KAFKA_BROKERS: csv('127.0.0.1:59092').pipe(z.array(z.string().min(3)).min(1)),
  KAFKA_CLIENT_ID: z.string().min(1).default('consumer'),
  KAFKA_GROUP_ID: z.string().min(1).default('edge-access-log-consumer'),
  /** Where the logging processor publishes edge.log.v1.AccessRecord. */
  KAFKA_TOPIC: topic('edge.access-log.v1'),
  /** Records that fail to decode or validate: original bytes, reason in headers. */
  KAFKA_DEAD_LETTER_TOPIC: topic('edge.access-log.v1.dlq'),
  /** Partitions when this service creates the topics (they are created if missing). */
  KAFKA_TOPIC_PARTITIONS: int(3, 1, 1000),

  /** Rows per INSERT; a batch is also written after BATCH_LINGER_MS. */
  BATCH_MAX_RECORDS: int(1000, 1, 10_000),
  BATCH_LINGER_MS: int(50, 1, 10_000),
  /** Records held while Postgres is slow or down before consumption pauses (backpressure). */
  PENDING_MAX_RECORDS: int(10_000, 1, 1_000_000),
  /** Delay between insert attempts while Postgres fails (doubling, capped). */
  INSERT_RETRY_MAX_MS: int(5_000, 10, 300_000),

  /** Largest page of the query API. */
  QUERY_MAX_LIMIT: int(500, 1, 10_000),
});

export type ConsumerConfig = z.infer<typeof consumerConfigSchema>;

export const CONSUMER_CONFIG = Symbol('CONSUMER_CONFIG');

export function loadConsumerConfig(source?: Record<string, string | undefined>): ConsumerConfig {
  return loadConfig('consumer', consumerConfigSchema, source);
}
