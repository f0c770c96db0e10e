import { z } from 'zod';

/** Reusable field parsers for env schemas. */
export const env = {
  port: (def?: number) => {
    const p = z.coerce.number().int().min(0).max(65535);
    return def === undefined ? p : p.default(def);
  },
  host: (def = '127.0.0.1') => z.string().min(1).default(def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  url: () => z.string().url(),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  nodeEnv: () => z.enum(['development', 'test', 'production']).default('development'),
} as const;
