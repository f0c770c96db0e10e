import { pino, type LoggerOptions, type Logger as PinoLogger } from 'pino';
import type { Logger } from '../logger';

/**
 * The pino adapter (`@edge/processor-core/pino`): wraps an existing pino logger, or creates
 * one from options. Pino already has the `(fields, msg)` shape, so this is a thin pass-through.
 */
export function pinoLogger(loggerOrOptions?: PinoLogger | LoggerOptions): Logger {
  const p: PinoLogger =
    loggerOrOptions !== undefined &&
    'child' in loggerOrOptions &&
    typeof loggerOrOptions.child === 'function'
      ? loggerOrOptions
      : pino(loggerOrOptions);
  return {
    debug: (f, m) => p.debug(f, m),
    info: (f, m) => p.info(f, m),
    warn: (f, m) => p.warn(f, m),
    error: (f, m) => p.error(f, m),
  };
}
