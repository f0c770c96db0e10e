import type { Started } from './types';

/** Stops parts in reverse start order; collects failures instead of stopping at the first. */
export async function stopAll(parts: readonly Started<unknown>[]): Promise<void> {
  const errors: unknown[] = [];
  for (const part of [...parts].reverse()) {
    try {
      await part.stop();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0)
    throw new AggregateError(errors, `${errors.length} part(s) failed to stop`);
}

/**
 * Keeps the process alive until SIGINT or SIGTERM, then stops every part cleanly.
 * Resolves with the signal received.
 */
export function runUntilSignal(parts: readonly Started<unknown>[]): Promise<NodeJS.Signals> {
  return new Promise((resolve, reject) => {
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stopAll(parts)
        .then(() => resolve(signal), reject)
        .finally(() => clearInterval(keepAlive));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
