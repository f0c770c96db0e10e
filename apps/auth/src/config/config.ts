import { loadConfig } from '@edge/service-config';
import { type AuthConfig, authConfigSchema } from './config.schema';

/** Injection token for the validated configuration. */
export const AUTH_CONFIG = Symbol('AUTH_CONFIG');

/**
 * Parses the environment once (at boot, in main.ts or the typeorm CLI data source). Every bad
 * variable is reported at once; values are never echoed.
 */
export function loadAuthConfig(source?: Record<string, string | undefined>): AuthConfig {
  return loadConfig('auth', authConfigSchema, source);
}

export { type AuthConfig } from './config.schema';
