import { type Logger } from '../logging/logger';
import { type KeyCache } from './key-cache';
import { type RevokedKeys } from './revoked-keys';
import { type RotatedKeys } from './rotated-keys';
import {
  type KeyEvent,
  KeyEventLogReset,
  type KeyEventSubscription,
  type KeyVerificationBackend,
} from './key-verification.backend';

export interface KeyEventsWatcherOptions {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** How far back ListRevokedKeys looks: JWT_MAX_TTL_SECONDS. */
  readonly revokedWindowSeconds?: number;
}

/**
 * Keeps one WatchKeyEvents stream open and applies it to the key cache.
 *
 * - List, then watch: before its first stream it loads the keys revoked within the longest
 *   token lifetime (ListRevokedKeys), and the rotation cut-offs of keys rotated within it, with
 *   the log sequence they reflect, and watches from that
 *   sequence; each reconnect resumes after the last sequence it saw (the server replays what
 *   happened meanwhile), so no revocation falls in a gap, across restarts of either side. If the
 *   server cannot resume from it (OUT_OF_RANGE), it lists again.
 * - REVOKED / ROTATED: the key_id is dropped from the cache at once; a REVOKED key_id is also
 *   remembered (RevokedKeys) so JWTs exchanged for it are refused too, and a ROTATED one's
 *   cut-off (RotatedKeys) so JWTs issued before the rotation are refused.
 * - The cache is trusted only while the stream is live (after its `subscribed` event). When the
 *   stream goes down the cache is cleared and stays bypassed (every Basic request calls
 *   VerifyKey) until a new stream says `subscribed` again: a revocation announced while the
 *   stream was down can therefore never be missed. The price is one VerifyKey per request
 *   while the stream is down, which is what the service would cost without a cache.
 * - Reconnects with jittered exponential backoff (initial..max), reset after a subscribe.
 */
export class KeyEventsWatcher {
  private subscription: KeyEventSubscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private isLive = false;
  private stopped = true;
  /** Bumped per subscription, so late callbacks of an old stream are ignored. */
  private attempt = 0;
  /** Last key-event sequence applied; undefined until the first list. */
  private lastSeq: number | undefined;

  constructor(
    private readonly backend: KeyVerificationBackend,
    private readonly cache: KeyCache,
    private readonly logger: Logger,
    private readonly opts: KeyEventsWatcherOptions,
    private readonly revoked?: RevokedKeys,
    private readonly rotated?: RotatedKeys,
  ) {
    this.backoffMs = opts.initialBackoffMs;
  }

  /** True while a stream is open and has confirmed its subscription. */
  get live(): boolean {
    return this.isLive;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.subscription?.cancel();
    this.subscription = undefined;
    this.setLive(false);
  }

  private connect(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const attempt = ++this.attempt;
    // Without a revoked-key set to fill there is nothing to list: watch from now on.
    if (this.lastSeq === undefined && this.revoked !== undefined) {
      this.backend
        .listRevokedKeys(this.opts.revokedWindowSeconds ?? 0)
        .then((snapshot) => {
          if (attempt !== this.attempt || this.stopped) return;
          this.revoked?.load(snapshot.keys);
          this.rotated?.load(snapshot.rotated ?? []);
          this.lastSeq = snapshot.sequence;
          this.logger.info(
            {
              event: 'revoked_keys_loaded',
              count: snapshot.keys.length,
              rotated: snapshot.rotated?.length ?? 0,
              sequence: snapshot.sequence,
            },
            'revoked keys loaded',
          );
          this.watch(attempt);
        })
        .catch((err: unknown) => {
          if (attempt === this.attempt)
            this.onClose(err instanceof Error ? err : new Error(String(err)));
        });
      return;
    }
    this.watch(attempt);
  }

  private watch(attempt: number): void {
    this.subscription = this.backend.watchKeyEvents(
      {
        onEvent: (e) => {
          if (attempt === this.attempt) this.onEvent(e);
        },
        onClose: (err) => {
          if (attempt === this.attempt) this.onClose(err);
        },
      },
      this.lastSeq,
    );
  }

  private onEvent(e: KeyEvent): void {
    switch (e.type) {
      case 'subscribed':
        if (e.sequence !== undefined) this.lastSeq = Math.max(this.lastSeq ?? 0, e.sequence);
        this.backoffMs = this.opts.initialBackoffMs;
        if (!this.isLive) {
          this.logger.info({ event: 'key_events_subscribed' }, 'key events stream live, cache on');
        }
        this.setLive(true);
        break;
      case 'revoked':
      case 'rotated': {
        if (e.sequence !== undefined) this.lastSeq = Math.max(this.lastSeq ?? 0, e.sequence);
        const dropped = this.cache.invalidateKeyId(e.keyId);
        if (e.type === 'revoked') this.revoked?.add(e.keyId, e.atMs);
        // Tokens minted before a rotation are refused (the auth service does the same).
        if (e.type === 'rotated' && e.atMs !== undefined) this.rotated?.add(e.keyId, e.atMs);
        this.logger.info(
          { event: 'key_invalidated', reason: e.type, key_id: e.keyId, dropped },
          'key dropped from cache',
        );
        break;
      }
    }
  }

  private onClose(err: Error | undefined): void {
    this.subscription = undefined;
    if (err instanceof KeyEventLogReset) this.lastSeq = undefined;
    const wasLive = this.isLive;
    this.setLive(false);
    if (this.stopped) return;
    const delay = Math.round(this.backoffMs * (0.5 + Math.random() * 0.5));
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
    const fields = { event: 'key_events_down', err: err?.message, retry_in_ms: delay };
    const msg = 'key events stream down: cache cleared and bypassed until it is back';
    if (wasLive) this.logger.warn(fields, msg);
    else this.logger.debug(fields, msg);
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }

  private setLive(live: boolean): void {
    // Either way, results of verifications in flight must not be cached: they may predate an
    // event this process did not see (going down) or was not subscribed for (coming up).
    if (live !== this.isLive) {
      if (live) this.cache.bumpGeneration();
      else this.cache.clear();
    }
    this.isLive = live;
  }
}
