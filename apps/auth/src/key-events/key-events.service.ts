import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Client } from 'pg';
import { type Observable, Subject } from 'rxjs';
import { type EntityManager } from 'typeorm';
import { AUTH_CONFIG, type AuthConfig } from '../config/config';

/** Postgres NOTIFY channel on which every auth replica announces key changes. */
export const KEY_EVENTS_CHANNEL = 'edge_key_events';

export type KeyEventType = 'REVOKED' | 'ROTATED';

export interface KeyEvent {
  type: KeyEventType;
  keyId: string;
  at: Date;
}

/** Parses a NOTIFY payload; undefined when it is not one of ours. */
export function parseKeyEvent(payload: string | undefined): KeyEvent | undefined {
  if (!payload) return undefined;
  try {
    const v = JSON.parse(payload) as { type?: unknown; key_id?: unknown; at?: unknown };
    if ((v.type !== 'REVOKED' && v.type !== 'ROTATED') || typeof v.key_id !== 'string') {
      return undefined;
    }
    const at = typeof v.at === 'string' ? new Date(v.at) : new Date(NaN);
    return { type: v.type, keyId: v.key_id, at: Number.isNaN(at.getTime()) ? new Date() : at };
  } catch {
    return undefined;
  }
}

export function serializeKeyEvent(e: KeyEvent): string {
  return JSON.stringify({ type: e.type, key_id: e.keyId, at: e.at.toISOString() });
}

/**
 * Key revocations and rotations, fanned out to every replica through Postgres LISTEN/NOTIFY.
 * A change is announced with `announce()` inside the transaction that makes it, so the event
 * is delivered (to all replicas, this one included) exactly when the change commits. Each
 * replica holds one dedicated LISTEN connection and reconnects on failure.
 */
@Injectable()
export class KeyEventsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(KeyEventsService.name);
  private readonly subject = new Subject<KeyEvent>();
  private client: Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private listening = false;
  private waiters: (() => void)[] = [];

  constructor(@Inject(AUTH_CONFIG) private readonly config: Pick<AuthConfig, 'DATABASE_URL'>) {}

  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.subject.complete();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Every event from now on. */
  events(): Observable<KeyEvent> {
    return this.subject.asObservable();
  }

  /** Resolves once the LISTEN connection is up (at once when it already is). */
  whenListening(): Promise<void> {
    if (this.listening) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Queues the event in the caller's transaction; Postgres delivers it on commit. */
  static async announce(manager: EntityManager, event: KeyEvent): Promise<void> {
    await manager.query('SELECT pg_notify($1, $2)', [KEY_EVENTS_CHANNEL, serializeKeyEvent(event)]);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.config.DATABASE_URL });
    client.on('notification', (msg) => {
      if (msg.channel !== KEY_EVENTS_CHANNEL) return;
      const event = parseKeyEvent(msg.payload);
      if (event) this.subject.next(event);
    });
    client.on('error', (err) => {
      this.logger.warn(`key events connection lost: ${err.message}`);
      this.scheduleReconnect(client);
    });
    client.on('end', () => this.scheduleReconnect(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${KEY_EVENTS_CHANNEL}`);
      this.client = client;
      this.listening = true;
      for (const w of this.waiters.splice(0)) w();
    } catch (err) {
      this.logger.warn(`key events: cannot LISTEN yet: ${(err as Error).message}`);
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: Client): void {
    if (this.closed || this.reconnectTimer || (this.client && this.client !== client)) return;
    this.listening = false;
    this.client = undefined;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, 500);
  }
}
