import { isIP } from 'node:net';
import { DEFAULT_JWT_MAX_TTL_SECONDS, MAX_JWT_MAX_TTL_SECONDS } from '@edge/auth-contract';
import { env, z } from '@edge/service-config';
import { authTlsEnvShape, checkTlsEnv } from './tls.schema';

// Development-only defaults for the two server secrets. They make `pnpm dev` work with no set-up
// and apply only with the explicit opt-in AUTH_DEV_MODE=1 (which also keeps the service on
// loopback and create-root-key open); without it every deployment must bring its own values.
export const DEV_API_KEY_PEPPER = 'dev-only-api-key-pepper-not-for-production-use';
export const DEV_SIGNING_KEY_ENCRYPTION_KEY = Buffer.alloc(32, 0x5a).toString('base64');

const seconds = (def: number, min = 1, max = 31_536_000) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) or `localhost`: the only binds dev mode allows. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The secrets a service without AUTH_DEV_MODE must be given. */
const REQUIRED_SECRETS = ['ADMIN_TOKEN', 'API_KEY_PEPPER', 'SIGNING_KEY_ENCRYPTION_KEY'] as const;

/** The auth service's whole environment. Read once at boot by `loadAuthConfig`. */
export const authConfigSchema = z
  .object({
    NODE_ENV: env.nodeEnv(),
    /**
     * Explicit opt-in to the development defaults (public pepper and signing-key encryption
     * key, create-root-key open without ADMIN_TOKEN). Refused with NODE_ENV=production and with
     * a HOST that is not loopback. The dev stack and the tests set it.
     */
    AUTH_DEV_MODE: env.bool(false),
    HOST: env.host(),
    PORT: env.port(7000),
    GRPC_PORT: env.port(7001),
    LOG_LEVEL: env.logLevel(),
    DATABASE_URL: env.url(),
    /** 0 means retry forever: the service waits for Postgres instead of crash-looping. */
    DB_CONNECT_MAX_ATTEMPTS: z.coerce.number().int().min(0).default(0),
    DB_CONNECT_RETRY_DELAY_MS: z.coerce.number().int().min(50).default(1000),
    /** Bearer credential for create-root-key. Mandatory in production; when set, always enforced. */
    ADMIN_TOKEN: z.string().optional(),
    /** HMAC-SHA-256 key for API-key secret hashes. Changing it invalidates every key. */
    API_KEY_PEPPER: z.string().optional(),
    /** AES-256-GCM key (base64, 32 bytes) that encrypts JWT signing private keys at rest. */
    SIGNING_KEY_ENCRYPTION_KEY: z.string().optional(),
    JWT_ISSUER: z.string().min(1).default('edge-auth'),
    JWT_AUDIENCE: z.string().min(1).default('edge'),
    JWT_TTL_SECONDS: seconds(300, 5, MAX_JWT_MAX_TTL_SECONDS),
    /**
     * The one bound on token lifetime, shared with the authn processor (same variable): no
     * token lives longer; the processor refuses longer-lived or older tokens and remembers
     * revocations this long.
     */
    JWT_MAX_TTL_SECONDS: seconds(DEFAULT_JWT_MAX_TTL_SECONDS, 60, MAX_JWT_MAX_TTL_SECONDS),
    /** LISTEN connection: heartbeat (a bounded read of the key-event log) and reconnect delay. */
    KEY_EVENTS_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(5_000),
    KEY_EVENTS_RECONNECT_MS: z.coerce.number().int().min(10).max(60_000).default(500),
    /** How long key events are kept (>= JWT_MAX_TTL_SECONDS: what ListRevokedKeys can see). */
    KEY_EVENTS_RETENTION_SECONDS: seconds(7 * 86_400, 60),
    SIGNING_KEY_ROTATION_SECONDS: seconds(86_400, 2),
    /** How long a new signing key sits in the JWKS before it signs anything. */
    SIGNING_KEY_PUBLISH_AHEAD_SECONDS: seconds(3_600, 1),
    /** Upper bound for VerifyKey's cache_ttl_seconds (also bounded by expiry and grace). */
    VERIFY_CACHE_TTL_SECONDS: seconds(60, 0, 3_600),
    MAX_ROTATION_GRACE_SECONDS: seconds(7 * 86_400, 0),
    /** Most keys (active, not revoked) one tenant may hold; creating one more is a 409. */
    MAX_KEYS_PER_TENANT: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    /** `GET /keys`: page size when `limit` is not given, and the largest `limit` accepted. */
    KEYS_PAGE_DEFAULT: z.coerce.number().int().min(1).max(1000).default(50),
    KEYS_PAGE_MAX: z.coerce.number().int().min(1).max(1000).default(200),
    /** Per-client (source address) request budget on the HTTP API: LIMIT per TTL seconds. */
    THROTTLE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(300),
    THROTTLE_TTL_SECONDS: seconds(60, 1, 3_600),
    /** A tighter budget for create-root-key and POST /token (per client, same window). */
    THROTTLE_CREDENTIAL_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(60),
    // --- TLS (HTTPS + gRPC mTLS), see tls.schema.ts ---
    ...authTlsEnvShape,
  })
  // Cross-field checks live here (zod runs them once every field parsed), so the secrets are
  // checked here too and a production config reports all three problems together.
  .superRefine((c, ctx) => {
    const problem = (key: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [key], message });
    if (c.ADMIN_TOKEN !== undefined && c.ADMIN_TOKEN.length < 32) {
      problem('ADMIN_TOKEN', 'must be at least 32 characters');
    }
    if (c.API_KEY_PEPPER !== undefined && c.API_KEY_PEPPER.length < 32) {
      problem('API_KEY_PEPPER', 'must be at least 32 characters');
    }
    if (
      c.SIGNING_KEY_ENCRYPTION_KEY !== undefined &&
      Buffer.from(c.SIGNING_KEY_ENCRYPTION_KEY, 'base64').length !== 32
    ) {
      problem('SIGNING_KEY_ENCRYPTION_KEY', 'must be 32 bytes, base64-encoded');
    }
    if (c.AUTH_DEV_MODE) {
      if (c.NODE_ENV === 'production') {
        problem('AUTH_DEV_MODE', 'must not be set with NODE_ENV=production');
      }
      if (!isLoopbackHost(c.HOST)) {
        problem('HOST', 'AUTH_DEV_MODE only binds loopback (127.0.0.1, ::1, localhost)');
      }
    } else {
      for (const key of REQUIRED_SECRETS) {
        if (c[key] === undefined) {
          problem(key, 'required (or set AUTH_DEV_MODE=1 for the local development defaults)');
        }
      }
    }
    if (c.KEYS_PAGE_DEFAULT > c.KEYS_PAGE_MAX) {
      problem('KEYS_PAGE_DEFAULT', 'must not exceed KEYS_PAGE_MAX');
    }
    if (c.JWT_TTL_SECONDS > c.JWT_MAX_TTL_SECONDS) {
      problem('JWT_TTL_SECONDS', 'must be at most JWT_MAX_TTL_SECONDS');
    }
    if (c.KEY_EVENTS_RETENTION_SECONDS < c.JWT_MAX_TTL_SECONDS) {
      problem('KEY_EVENTS_RETENTION_SECONDS', 'must be at least JWT_MAX_TTL_SECONDS');
    }
    if (c.SIGNING_KEY_PUBLISH_AHEAD_SECONDS >= c.SIGNING_KEY_ROTATION_SECONDS) {
      problem(
        'SIGNING_KEY_PUBLISH_AHEAD_SECONDS',
        'must be shorter than SIGNING_KEY_ROTATION_SECONDS',
      );
    }
    // --- TLS (HTTPS + gRPC mTLS), see tls.schema.ts ---
    checkTlsEnv(c, problem);
  })
  // Past the refinement the secrets are either given or AUTH_DEV_MODE is on.
  .transform((c) => ({
    ...c,
    API_KEY_PEPPER: c.API_KEY_PEPPER ?? DEV_API_KEY_PEPPER,
    SIGNING_KEY_ENCRYPTION_KEY: c.SIGNING_KEY_ENCRYPTION_KEY ?? DEV_SIGNING_KEY_ENCRYPTION_KEY,
  }));

export type AuthConfig = z.infer<typeof authConfigSchema>;
