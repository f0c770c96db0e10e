import { type Logger } from '@edge/processor-core';
import { pinoLogger } from '@edge/processor-core/pino';

export { silentLogger, type Logger } from '@edge/processor-core';

export const LOGGER = Symbol('LOGGER');

/**
 * Structured JSON logs (pino). Idempotency keys and bodies are never logged (only a short hash
 * of the entry); the redaction is a second line of defence.
 */
export function createLogger(level: string): Logger {
  return pinoLogger({
    level,
    base: { service: 'idempotency-processor' },
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['authorization', '*.authorization', 'idempotency_key', '*.idempotency_key', 'body'],
      censor: '[redacted]',
    },
  });
}
