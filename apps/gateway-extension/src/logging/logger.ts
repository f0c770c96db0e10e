import { pinoLogger } from '@edge/processor-core/pino';
import { type Logger } from '@edge/processor-core';

export { silentLogger, type Logger } from '@edge/processor-core';

export const LOGGER = Symbol('LOGGER');

/**
 * Structured JSON logs (pino). Policies carry htpasswd hashes: only their names, kinds and
 * the reasons they were refused are logged, never their specs.
 */
export function createLogger(level: string): Logger {
  return pinoLogger({
    level,
    base: { service: 'gateway-extension' },
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['users', '*.users', 'spec', '*.spec'], censor: '[redacted]' },
  });
}
