import { pinoLogger } from '@edge/processor-core/pino';
import { type Logger } from '@edge/processor-core';

export { silentLogger, type Logger } from '@edge/processor-core';

export const LOGGER = Symbol('LOGGER');

/**
 * Structured JSON logs (pino). Credentials never reach a log line by construction (only key
 * ids, codes and request ids are logged); the redaction below is a second line of defence.
 */
export function createLogger(level: string): Logger {
  return pinoLogger({
    level,
    base: { service: 'authn-processor' },
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['authorization', '*.authorization', 'secret', '*.secret', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}
