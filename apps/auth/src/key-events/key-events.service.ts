import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { type Observable, Subject } from 'rxjs';
import { DataSource, type EntityManager } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../config/config';

/** Postgres NOTIFY channel on which every auth replica is woken up for new key events. */
export const KEY_EVENTS_CHANNEL = 'edge_key_events';
/** application_name of the LISTEN connection (visible in pg_stat_activity). */
export const KEY_EVENTS_APPLICATION_NAME = 'edge-auth-key-events';

export type KeyEventType = 'REVOKED' | 'ROTATED';

/** What a change announces; the log gives it its sequence. */
export interface NewKeyEvent {
  type: KeyEventType;
  keyId: string;
  at: Date;
}

/** One row of the ordered key-event log. */
export interface KeyEvent extends NewKeyEvent {
  sequence: number;
}

interface KeyEventRow {
  seq: string;
  key_id: string;
  type: KeyEventType;
  at: Date;
}

export function fromRow(r: KeyEventRow): KeyEvent {
  return { sequence: Number(r.seq), type: r.type, keyId: r.key_id, at: new Date(r.at) };
}

const SELECT_AFTER = `SELECT seq, key_id, type, at FROM key_events WHERE seq > $1 ORDER BY seq LIMIT $2`;
const BATCH = 1000;
const NEWEST = 'SELECT coalesce(max(seq), 0)::text AS newest FROM key_events';

/**
 * The key-event log, fanned out to every replica.
 *
 * - `announce()` appends a row in the caller's transaction (revoke / rotate), holding a table
 *   lock that serialises writers until commit, so sequence order is commit order: a reader that
 *   saw sequence N has seen every event up to N, and nothing later can appear below N.
 * - NOTIFY is only a wake-up: on a notification (and on a heartbeat) this replica reads the log
 *   after the last sequence it emitted, on its LISTEN connection, and emits what is new, in order.
 * - The LISTEN connection has TCP keepalive and an application heartbeat (a bounded query every
 *   KEY_EVENTS_HEARTBEAT_MS). When it fails, `disconnects()` fires (watch streams end, so
 *   processors stop trusting their caches) and it reconnects, then re-reads from the last
 *   sequence: a change committed while it was down is emitted once it is back, never lost.
 * - Rows older than KEY_EVENTS_RETENTION_SECONDS are pruned (never the newest row).
 */
@Injectable()
export class KeyEventsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(KeyEventsService.name);
  private readonly subject = new Subject<KeyEvent>();
  private readonly lost = new Subject<void>();
  private client: Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private listening = false;
  private waiters: (() => void)[] = [];
  /** Every event up to this sequence was emitted (undefined until the first connection). */
  private lastSeq: number | undefined;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;

  constructor(
    @Inject(AUTH_CONFIG)
    private readonly config: Pick<
      AuthConfig,
      | 'DATABASE_URL'
      | 'KEY_EVENTS_HEARTBEAT_MS'
      | 'KEY_EVENTS_RECONNECT_MS'
      | 'KEY_EVENTS_RETENTION_SECONDS'
    >,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.connect();
    this.pruneTimer = setInterval(() => void this.prune(), 3_600_000);
    this.pruneTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    clearInterval(this.pruneTimer);
    this.subject.complete();
    this.lost.complete();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Every event emitted from now on, in sequence order. */
  events(): Observable<KeyEvent> {
    return this.subject.asObservable();
  }

  /** Fires each time the LISTEN connection is lost (events may be late until it is back). */
  disconnects(): Observable<void> {
    return this.lost.asObservable();
  }

  /** The sequence up to which events were emitted (0 when the log is empty). */
  get lastSequence(): number {
    return this.lastSeq ?? 0;
  }

  /** Resolves once the LISTEN connection is up and caught up (at once when it already is). */
  whenListening(): Promise<void> {
    if (this.listening) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Appends the event to the log in the caller's transaction; visible (and notified) on commit. */
  static async announce(manager: EntityManager, event: NewKeyEvent): Promise<void> {
    // Serialise writers until commit (readers are not blocked): sequence order = commit order.
    await manager.query('LOCK TABLE key_events IN SHARE ROW EXCLUSIVE MODE');
    await manager.query(
      `INSERT INTO key_events (key_id, tenant_id, type, at)
       VALUES ($1, (SELECT tenant_id FROM api_keys WHERE key_id = $1), $2, $3)`,
      [event.keyId, event.type, event.at],
    );
    await manager.query('SELECT pg_notify($1, $2)', [KEY_EVENTS_CHANNEL, '']);
  }

  /**
   * The log after `afterSequence` (from the pool, for a resuming watcher), and the newest
   * sequence in the log; `beyond` when `afterSequence` is past it (a client of another log).
   */
  async readAfter(
    afterSequence: number,
  ): Promise<{ events: KeyEvent[]; newest: number; beyond: boolean }> {
    const [{ newest }] = await this.db.query<[{ newest: string }]>(NEWEST);
    const n = Number(newest);
    if (afterSequence > n) return { events: [], newest: n, beyond: true };
    const events: KeyEvent[] = [];
    let after = afterSequence;
    for (;;) {
      const rows = await this.db.query<KeyEventRow[]>(SELECT_AFTER, [after, BATCH]);
      for (const r of rows) events.push(fromRow(r));
      if (rows.length < BATCH) break;
      after = events[events.length - 1]!.sequence;
    }
    return { events, newest: n, beyond: false };
  }

  /**
   * Keys revoked within `withinSeconds`, keys rotated within it (with the time of their last
   * rotation), and the sequence of the last event the lists reflect (one REPEATABLE READ
   * snapshot: every later revocation or rotation has a greater sequence).
   */
  async revokedWithin(withinSeconds: number): Promise<{
    keys: { keyId: string; revokedAt: Date }[];
    rotated: { keyId: string; rotatedAt: Date }[];
    sequence: number;
  }> {
    const window = Math.min(withinSeconds, this.config.KEY_EVENTS_RETENTION_SECONDS);
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const [{ newest }] = await m.query<[{ newest: string }]>(NEWEST);
      const rows = await m.query<{ key_id: string; at: Date }[]>(
        `SELECT key_id, max(at) AS at FROM key_events
         WHERE type = 'REVOKED' AND at > now() - make_interval(secs => $1)
         GROUP BY key_id ORDER BY max(at)`,
        [window],
      );
      const rotations = await m.query<{ key_id: string; at: Date }[]>(
        `SELECT key_id, max(at) AS at FROM key_events
         WHERE type = 'ROTATED' AND at > now() - make_interval(secs => $1)
         GROUP BY key_id ORDER BY max(at)`,
        [window],
      );
      return {
        keys: rows.map((r) => ({ keyId: r.key_id, revokedAt: new Date(r.at) })),
        rotated: rotations.map((r) => ({ keyId: r.key_id, rotatedAt: new Date(r.at) })),
        sequence: Number(newest),
      };
    });
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({
      connectionString: this.config.DATABASE_URL,
      application_name: KEY_EVENTS_APPLICATION_NAME,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // A heartbeat that hangs (half-open connection) fails instead of blocking forever.
      query_timeout: Math.max(1_000, this.config.KEY_EVENTS_HEARTBEAT_MS),
    });
    client.on('notification', (msg) => {
      if (msg.channel === KEY_EVENTS_CHANNEL) this.requestSync();
    });
    client.on('error', (err) => this.connectionLost(client, err.message));
    client.on('end', () => this.connectionLost(client, 'connection ended'));
    try {
      await client.connect();
      await client.query(`LISTEN ${KEY_EVENTS_CHANNEL}`);
      this.client = client;
      if (this.lastSeq === undefined) {
        const res = await client.query<{ newest: string }>(NEWEST);
        this.lastSeq = Number(res.rows[0]?.newest ?? 0);
      } else {
        // Catch up on whatever was committed while the connection was down.
        await this.sync();
      }
      this.listening = true;
      for (const w of this.waiters.splice(0)) w();
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = setInterval(
        () => this.requestSync(),
        this.config.KEY_EVENTS_HEARTBEAT_MS,
      );
      this.heartbeatTimer.unref();
      this.logger.log(`key events: listening (from sequence ${this.lastSequence})`);
    } catch (err) {
      this.connectionLost(client, `cannot LISTEN yet: ${(err as Error).message}`);
    }
  }

  /** Coalesces wake-ups: one read at a time, and one more if woken meanwhile. */
  private requestSync(): void {
    if (this.syncing !== undefined) {
      this.syncAgain = true;
      return;
    }
    this.syncing = this.sync()
      .catch((err: unknown) => {
        const client = this.client;
        if (client !== undefined) this.connectionLost(client, (err as Error).message);
      })
      .finally(() => {
        this.syncing = undefined;
        if (this.syncAgain && this.listening) {
          this.syncAgain = false;
          this.requestSync();
        }
      });
  }

  /** Reads the log after the last emitted sequence on the LISTEN connection and emits it. */
  private async sync(): Promise<void> {
    const client = this.client;
    if (client === undefined || this.lastSeq === undefined) return;
    for (;;) {
      const res = await client.query<KeyEventRow>(SELECT_AFTER, [this.lastSeq, BATCH]);
      for (const row of res.rows) {
        const e = fromRow(row);
        if (e.sequence <= this.lastSeq) continue;
        this.lastSeq = e.sequence;
        this.subject.next(e);
      }
      if (res.rows.length < BATCH) return;
    }
  }

  private connectionLost(client: Client, reason: string): void {
    if (this.closed || this.reconnectTimer || (this.client && this.client !== client)) return;
    const wasListening = this.listening;
    this.listening = false;
    this.client = undefined;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    client.removeAllListeners('end');
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.logger.warn(`key events connection lost (${reason}); reconnecting`);
    if (wasListening) this.lost.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, this.config.KEY_EVENTS_RECONNECT_MS);
  }

  private async prune(): Promise<void> {
    try {
      await this.db.query(
        `DELETE FROM key_events
         WHERE at < now() - make_interval(secs => $1)
           AND seq < (SELECT max(seq) FROM key_events)`,
        [this.config.KEY_EVENTS_RETENTION_SECONDS],
      );
    } catch (err) {
      this.logger.warn(`key events: prune failed: ${(err as Error).message}`);
    }
  }
}
