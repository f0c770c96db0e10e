/** The pino-shaped logger the services use (nestjs-pino's PinoLogger satisfies it). */
export interface AppLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export const LOGGER = Symbol('LOGGER');
