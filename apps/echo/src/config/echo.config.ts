import { env, loadConfig, z } from '@edge/service-config';

export const echoConfigSchema = z.object({
  PORT: env.port(7100),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  /** Largest request body echoed; larger bodies get a JSON 413. */
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});

export type EchoConfig = z.infer<typeof echoConfigSchema>;

export const ECHO_CONFIG = Symbol('ECHO_CONFIG');

export function loadEchoConfig(source?: Record<string, string | undefined>): EchoConfig {
  return loadConfig('echo', echoConfigSchema, source);
}
