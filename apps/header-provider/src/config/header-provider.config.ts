import { env, loadConfig, z } from '@edge/service-config';
import { nameProblem } from '../headers/field-syntax';

const positiveInt = (def: number, max: number) =>
  z.coerce.number().int().positive().max(max).default(def);

const headerName = (def: string) =>
  z
    .string()
    .default(def)
    .superRefine((v, ctx) => {
      const problem = nameProblem(v);
      if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .transform((v) => v.toLowerCase());

/** A JSON object of header names to string values. Names/values are checked later (logged). */
const staticHeaders = z
  .string()
  .default('{}')
  .transform((raw, ctx) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.string(), { message: 'a JSON object of strings' }));

export const headerProviderConfigSchema = z
  .object({
    HOST: env.host(),
    PORT: env.port(7200),
    LOG_LEVEL: env.logLevel(),
    NODE_ENV: env.nodeEnv(),

    /** The auth service's HTTP API (token exchange: POST /token). */
    AUTH_URL: env.url().default('http://127.0.0.1:7000'),
    /** The workload's own API key, exchanged for its short-lived JWT. */
    WORKLOAD_KEY_ID: z
      .string()
      .regex(/^[^:\s]+$/, 'a key id (no colon or blank)')
      .optional(),
    WORKLOAD_KEY_SECRET: z.string().min(1).optional(),
    /**
     * Dev stack only: without a configured key, create one at start-up through the auth
     * service's create-root-key endpoint. Refused in production.
     */
    DEV_BOOTSTRAP_KEY: env.bool(false),

    /** Header that carries the workload's JWT. */
    TOKEN_HEADER: headerName('x-workload-token'),
    /**
     * A token is renewed when less than this remains; set it above the sidecar filter's
     * header_cache_expiry so a cached token never outlives its exp.
     */
    TOKEN_MIN_REMAINING_SECONDS: positiveInt(60, 86_400),
    TOKEN_REQUEST_TIMEOUT_MS: positiveInt(2_000, 60_000),
    /** Renewal retries after a failure: first delay and cap (doubling). */
    RENEW_BACKOFF_INITIAL_MS: positiveInt(500, 60_000),
    RENEW_BACKOFF_MAX_MS: positiveInt(30_000, 600_000),

    /** Fixed headers served next to the token, e.g. {"x-mesh-cluster":"dev"}. */
    STATIC_HEADERS: staticHeaders,
  })
  .superRefine((c, ctx) => {
    const hasKey = c.WORKLOAD_KEY_ID !== undefined && c.WORKLOAD_KEY_SECRET !== undefined;
    if (!hasKey && !c.DEV_BOOTSTRAP_KEY) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['WORKLOAD_KEY_ID'],
        message: 'WORKLOAD_KEY_ID and WORKLOAD_KEY_SECRET are required (or DEV_BOOTSTRAP_KEY=true)',
      });
    }
    if (c.DEV_BOOTSTRAP_KEY && c.NODE_ENV === 'production') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['DEV_BOOTSTRAP_KEY'],
        message: 'not allowed in production',
      });
    }
    if (Object.keys(c.STATIC_HEADERS).some((n) => n.toLowerCase() === c.TOKEN_HEADER)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['STATIC_HEADERS'],
        message: 'must not set TOKEN_HEADER',
      });
    }
    if (c.RENEW_BACKOFF_INITIAL_MS > c.RENEW_BACKOFF_MAX_MS) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['RENEW_BACKOFF_INITIAL_MS'],
        message: 'must not exceed RENEW_BACKOFF_MAX_MS',
      });
    }
  });

export type HeaderProviderConfig = z.infer<typeof headerProviderConfigSchema>;

export const HEADER_PROVIDER_CONFIG = Symbol('HEADER_PROVIDER_CONFIG');

export function loadHeaderProviderConfig(
  source?: Record<string, string | undefined>,
): HeaderProviderConfig {
  return loadConfig('header-provider', headerProviderConfigSchema, source);
}
