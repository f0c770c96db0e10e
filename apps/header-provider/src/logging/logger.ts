import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOGGER = Symbol('LOGGER');

/** Structured JSON logs. Secrets and tokens are never logged; redaction is a second guard. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'header-provider' },
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['secret', '*.secret', 'token', '*.token', 'authorization', '*.authorization'],
      censor: '[redacted]',
    },
  });
}
