/**
 * The logging seam of the core: a pino-compatible shape (`logger.info(fields, msg)`), so a
 * pino logger satisfies it directly, without the core depending on pino or on Nest.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Where lines go. Default: process.stdout. */
  write?: (line: string) => void;
  /** Fields added to every line (e.g. `{ service: 'authn-processor' }`). */
  base?: Record<string, unknown>;
}

/** A dependency-free structured JSON logger: one JSON object per line (pino's field names). */
export function jsonLogger(opts: JsonLoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => void process.stdout.write(line));
  const base = opts.base ?? {};
  const make =
    (level: Exclude<LogLevel, 'silent'>) =>
    (fields: Record<string, unknown>, msg: string): void => {
      if (RANK[level] < min) return;
      const err = fields.err;
      const line: Record<string, unknown> = { level, time: Date.now(), ...base, ...fields, msg };
      if (err instanceof Error)
        line.err = { type: err.name, message: err.message, stack: err.stack };
      write(`${JSON.stringify(line)}\n`);
    };
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

const noop = (): void => undefined;
/** Drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
