import { env, loadConfig, z } from '@edge/service-config';

const int = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const idempotencyProcessorConfigSchema = z
  .object({
    /** ext_proc gRPC listener (Envoy's `idempotency_processor` cluster points here). */
    GRPC_HOST: env.host(),
    GRPC_PORT: env.port(9002),
    /** Prometheus `GET /metrics` and `GET /health` (Redis state); 0 disables the listener. */
    METRICS_PORT: env.port(9102),
    LOG_LEVEL: env.logLevel(),

    /** Redis holding the entries (`redis://[:password@]host:port[/db]`). */
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:56379'),
    /**
     * Deadline of one Redis command. Each ext_proc message makes at most one Redis call, so
     * this must stay well under the filter's `message_timeout` (2 s in envoy/front-proxy.yaml).
     */
    REDIS_COMMAND_TIMEOUT_MS: int(250, 10, 1_500),
    REDIS_CONNECT_TIMEOUT_MS: int(1_000, 10, 10_000),
    /** Reconnect backoff cap: Redis back → serving again within about this long. */
    REDIS_RECONNECT_MAX_MS: int(1_000, 50, 30_000),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[\w:.-]{1,64}$/, 'letters, digits, _ : . -')
      .default('idempotency:v1:'),

    /** How long a completed entry is kept (route metadata `retention_seconds` may change it). */
    IDEMPOTENCY_RETENTION_SECONDS: int(86_400, 1, 30 * 86_400),
    /**
     * Expiry of the in-flight lock: longer than any route timeout (15 s in the front proxy), so
     * a request still running upstream is never run twice; a processor that died holding a lock
     * frees the key after this.
     */
    IDEMPOTENCY_LOCK_TTL_MS: int(60_000, 1_000, 3_600_000),
    /**
     * Largest response body stored (route metadata `max_response_bytes` may lower it). Larger
     * responses are delivered, not stored, and marked `idempotency-warning: response-not-stored`.
     * At most Envoy's buffer limit (1 MiB `per_connection_buffer_limit_bytes`).
     */
    IDEMPOTENCY_MAX_RESPONSE_BYTES: int(256 * 1024, 0, 1024 * 1024),
    /** `Retry-After` (seconds) of a 409 while the first request is in flight, and of a 503. */
    IDEMPOTENCY_RETRY_AFTER_SECONDS: int(1, 1, 3_600),
    /**
     * TEST HOOK, keep 0 in production: waits this long after the upstream answered and before
     * the response is stored, so tests can send a retry into that window. Refused when
     * NODE_ENV=production.
     */
    IDEMPOTENCY_TEST_STORE_DELAY_MS: int(0, 0, 10_000),
    NODE_ENV: env.nodeEnv(),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.IDEMPOTENCY_TEST_STORE_DELAY_MS === 0, {
    message: 'IDEMPOTENCY_TEST_STORE_DELAY_MS is a test hook and must be 0 in production',
    path: ['IDEMPOTENCY_TEST_STORE_DELAY_MS'],
  });

export type IdempotencyProcessorConfig = z.infer<typeof idempotencyProcessorConfigSchema>;

export const IDEMPOTENCY_PROCESSOR_CONFIG = Symbol('IDEMPOTENCY_PROCESSOR_CONFIG');

export function loadIdempotencyProcessorConfig(
  source?: Record<string, string | undefined>,
): IdempotencyProcessorConfig {
  return loadConfig('idempotency-processor', idempotencyProcessorConfigSchema, source);
}
