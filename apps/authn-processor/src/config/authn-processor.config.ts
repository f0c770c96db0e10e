import { DEFAULT_JWT_MAX_TTL_SECONDS, MAX_JWT_MAX_TTL_SECONDS } from '@edge/auth-contract';
import { env, loadConfig, z } from '@edge/service-config';

const positiveInt = (def: number, max: number) =>
  z.coerce.number().int().positive().max(max).default(def);

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

/** Asymmetric JWS algorithms only: `none` and HS* (shared secrets) can never be configured. */
const ASYMMETRIC_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/**
 * TLS towards the auth service (issue 6 §4): all three files or none. With them, the gRPC
 * channel is mTLS (this client certificate, the server verified against AUTH_TLS_CA_FILE) and
 * AUTH_JWKS_URL must be https, verified against the same CA. Without them, both stay plaintext
 * (the dev stack on loopback).
 */
const authTlsEnvShape = {
  /** PEM CA bundle trusted for the auth service's certificate (gRPC and the JWKS fetch). */
  AUTH_TLS_CA_FILE: z.string().min(1).optional(),
  /** PEM client certificate (chain) presented to the auth service's gRPC port. */
  AUTH_TLS_CERT_FILE: z.string().min(1).optional(),
  /** PEM private key of AUTH_TLS_CERT_FILE. */
  AUTH_TLS_KEY_FILE: z.string().min(1).optional(),
};

export const AUTH_TLS_FILE_VARIABLES = [
  'AUTH_TLS_CA_FILE',
  'AUTH_TLS_CERT_FILE',
  'AUTH_TLS_KEY_FILE',
] as const;

const authnProcessorFields = z.object({
  /** ext_proc gRPC listener (Envoy's `authn_processor` cluster points here). */
  GRPC_HOST: env.host(),
  GRPC_PORT: env.port(9001),
  /** Prometheus metrics (GET /metrics); 0 disables the listener. */
  METRICS_PORT: env.port(9101),
  LOG_LEVEL: env.logLevel(),

  /**
   * The auth service's gRPC API (edge.auth.v1.KeyVerificationService), host:port; plaintext
   * unless the AUTH_TLS_* files below are set (then mTLS).
   */
  AUTH_GRPC_URL: z.string().min(1).default('127.0.0.1:7001'),
  /** Deadline of one VerifyKey call. */
  AUTH_VERIFY_TIMEOUT_MS: positiveInt(300, 10_000),
  /** WatchKeyEvents reconnect backoff: first delay and cap (jittered, doubling). */
  AUTH_WATCH_BACKOFF_INITIAL_MS: positiveInt(100, 60_000),
  AUTH_WATCH_BACKOFF_MAX_MS: positiveInt(5_000, 300_000),

  /** Positive VerifyKey results kept in memory (LRU). */
  KEY_CACHE_MAX_ENTRIES: positiveInt(10_000, 1_000_000),
  /** Upper bound on how long a positive result is cached; the auth service may ask for less. */
  KEY_CACHE_TTL_SECONDS: positiveInt(60, 3_600),

  /**
   * Negative cache of key ids the auth service did not know (LRU): a repeated bogus key id costs
   * one backend call per TTL. Kept short: a key created after its id was looked up works at the
   * latest this long after that lookup. 0 disables it.
   */
  UNKNOWN_KEY_CACHE_MAX_ENTRIES: positiveInt(10_000, 1_000_000),
  UNKNOWN_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(30_000).default(2_000),

  /** JWKS of the auth service (JWT Bearer verification). */
  AUTH_JWKS_URL: env.url().default('http://127.0.0.1:7000/.well-known/jwks.json'),
  /** Must match apps/auth's JWT_ISSUER / JWT_AUDIENCE. */
  JWT_ISSUER: z.string().min(1).default('edge-auth'),
  JWT_AUDIENCE: z.string().min(1).default('edge'),
  JWT_ALGORITHMS: csv('ES256,RS256,EdDSA').pipe(
    z.array(z.enum(ASYMMETRIC_ALGS)).min(1, 'at least one asymmetric algorithm'),
  ),
  /**
   * The one bound on token lifetime, the same variable as apps/auth's: tokens with
   * `exp - iat` or an age above it are refused (`iat` required), and a revoked key_id is
   * remembered this long (+ clock tolerance) to refuse tokens exchanged for it.
   */
  JWT_MAX_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(MAX_JWT_MAX_TTL_SECONDS)
    .default(DEFAULT_JWT_MAX_TTL_SECONDS),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /** Verified tokens kept in memory (LRU, keyed by the token's SHA-256); 0 disables the cache. */
  JWT_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  /** Upper bound on how long a verified token is cached; its `exp` may lower it. */
  JWT_CACHE_TTL_SECONDS: positiveInt(60, 3_600),
  /** A JWKS is refetched when older than this, or on an unknown kid after the cooldown. */
  JWKS_CACHE_MAX_AGE_SECONDS: positiveInt(600, 86_400),
  JWKS_COOLDOWN_SECONDS: positiveInt(30, 3_600),
  JWKS_TIMEOUT_MS: positiveInt(1_000, 30_000),

  /** Authorization headers longer than this are refused (401 MalformedCredentials). */
  MAX_AUTHORIZATION_BYTES: positiveInt(4_096, 60 * 1024),
  /** Realm in WWW-Authenticate challenges. */
  AUTH_REALM: z
    .string()
    .regex(/^[\w .-]+$/, 'letters, digits, space, dot, dash, underscore')
    .default('edge'),
  // --- TLS towards the auth service, see authTlsEnvShape ---
  ...authTlsEnvShape,
});

export const authnProcessorConfigSchema = authnProcessorFields.superRefine((c, ctx) => {
  const set = AUTH_TLS_FILE_VARIABLES.filter((k) => c[k] !== undefined);
  if (set.length === 0) return;
  if (set.length < AUTH_TLS_FILE_VARIABLES.length) {
    for (const k of AUTH_TLS_FILE_VARIABLES) {
      if (c[k] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `required when any of ${AUTH_TLS_FILE_VARIABLES.join(', ')} is set`,
        });
      }
    }
  }
  if (!c.AUTH_JWKS_URL.startsWith('https:')) {
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_JWKS_URL'],
      message: 'must be https when the AUTH_TLS_* files are set',
    });
  }
});

export type AuthnProcessorConfig = z.infer<typeof authnProcessorConfigSchema>;

export const AUTHN_PROCESSOR_CONFIG = Symbol('AUTHN_PROCESSOR_CONFIG');

export function loadAuthnProcessorConfig(
  source?: Record<string, string | undefined>,
): AuthnProcessorConfig {
  return loadConfig('authn-processor', authnProcessorConfigSchema, source);
}
