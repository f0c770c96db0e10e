import { Redis } from 'ioredis';
import { type Logger } from '../logging/logger';

export interface RedisConnectionOptions {
  url: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  reconnectMaxMs: number;
}

/**
 * Owns the one ioredis client of the process (start, reconnect, stop) and knows whether Redis
 * is usable right now. Bounded by construction: commands fail fast while disconnected (no
 * offline queue), every command has a deadline (`commandTimeout`), and the client reconnects
 * forever with a capped backoff, so the service recovers by itself when Redis is back.
 */
export class RedisConnection {
  readonly client: Redis;
  private up = false;
  private readonly listeners = new Set<(up: boolean) => void>();

  constructor(
    opts: RedisConnectionOptions,
    private readonly logger: Logger,
  ) {
    this.client = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: opts.commandTimeoutMs,
      connectTimeout: opts.connectTimeoutMs,
      maxRetriesPerRequest: 0,
      enableAutoPipelining: true,
      retryStrategy: (times: number) =>
        Math.min(50 * 2 ** Math.min(times, 10), opts.reconnectMaxMs),
    });
    this.client.on('ready', () => this.setUp(true));
    this.client.on('close', () => this.setUp(false));
    this.client.on('end', () => this.setUp(false));
    // Without a listener ioredis prints every connection error; the state change is logged once.
    this.client.on('error', (err: Error) => {
      if (this.up) this.logger.warn({ err: err.message }, 'redis error');
    });
  }

  /** True while the connection is ready for commands. */
  get isUp(): boolean {
    return this.up;
  }

  onChange(listener: (up: boolean) => void): void {
    this.listeners.add(listener);
  }

  /** Starts connecting; resolves at once (Redis may come up later: the service runs degraded). */
  start(): void {
    this.client.connect().catch((err: unknown) => {
      this.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'redis not reachable at start; retrying in the background',
      );
    });
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    if (up) this.logger.info({ event: 'redis_up' }, 'redis connected');
    else this.logger.warn({ event: 'redis_down' }, 'redis connection lost; reconnecting');
    for (const l of this.listeners) l(up);
  }
}
