import { type Logger } from '@edge/processor-core';
import { pinoLogger } from '@edge/processor-core/pino';

export { silentLogger, type Logger } from '@edge/processor-core';

export const LOGGER = Symbol('LOGGER');

/**
 * Structured JSON logs (pino). Records are never logged (only ids, counts and errors); the
 * redaction below is a second line of defence.
 */
export function createLogger(level: string): Logger {
  return pinoLogger({
    level,
    base: { service: 'logging-processor' },
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['authorization', '*.authorization', 'cookie', '*.cookie', 'secret', 'token'],
      censor: '[redacted]',
    },
  });
}

/**
 * Node process warnings go to the JSON log instead of raw stderr. kafkajs 2.2.4 schedules a
 * timer with a negative delay in its request queue (`scheduleCheckPendingRequests` when a
 * throttle already passed); Node 24 clamps it to 1 ms and emits TimeoutNegativeWarning. That
 * one is harmless and logged at debug; every other warning stays visible at warn.
 */
export function routeProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (w: Error) => {
    if (w.name === 'TimeoutNegativeWarning') {
      logger.debug({ event: 'node_warning', name: w.name }, w.message);
      return;
    }
    logger.warn({ event: 'node_warning', name: w.name }, w.message);
  });
}
