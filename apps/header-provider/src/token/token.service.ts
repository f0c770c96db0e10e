import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock';
import {
  HEADER_PROVIDER_CONFIG,
  type HeaderProviderConfig,
} from '../config/header-provider.config';
import { LOGGER, type Logger } from '../logging/logger';
import { HeaderProviderMetrics } from '../metrics/header-provider.metrics';
import { type ApiKey, AuthClient, TokenExchangeError } from './auth-client';

interface HeldToken {
  value: string;
  expiresAtMs: number;
}

/**
 * Holds the workload's live JWT: exchanges the workload's API key for it at start-up, renews it
 * when less than TOKEN_MIN_REMAINING_SECONDS remain, retries failures with a doubling backoff and
 * never hands out an expired token. One owner of the renewal timer (start, stop).
 */
@Injectable()
export class TokenService implements OnModuleInit, OnApplicationShutdown {
  private held: HeldToken | undefined;
  private key: ApiKey | undefined;
  private cancelTimer: (() => void) | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    @Inject(HEADER_PROVIDER_CONFIG) private readonly config: HeaderProviderConfig,
    private readonly auth: AuthClient,
    private readonly clock: Clock,
    private readonly metrics: HeaderProviderMetrics,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    if (config.WORKLOAD_KEY_ID !== undefined && config.WORKLOAD_KEY_SECRET !== undefined) {
      this.key = { keyId: config.WORKLOAD_KEY_ID, secret: config.WORKLOAD_KEY_SECRET };
    }
  }

  /** Starts renewing in the background: the service boots even while auth is down. */
  onModuleInit(): void {
    this.schedule(0);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.cancelTimer?.();
  }

  /** The current token, or undefined when there is none or it has expired. */
  current(): string | undefined {
    const held = this.held;
    if (held === undefined || held.expiresAtMs <= this.clock.now()) return undefined;
    return held.value;
  }

  /** ms since the epoch when the current token expires (0: none). */
  expiresAtMs(): number {
    return this.held?.expiresAtMs ?? 0;
  }

  /** One renewal attempt; schedules the next one. Exposed for tests. */
  async renew(): Promise<void> {
    try {
      const key = await this.workloadKey();
      const issued = await this.auth.exchange(key);
      const now = this.clock.now();
      const lifetimeMs = issued.expiresIn * 1000;
      this.held = { value: issued.accessToken, expiresAtMs: now + lifetimeMs };
      this.failures = 0;
      this.metrics.tokenRenewed(this.held.expiresAtMs);
      const minRemainingMs = this.config.TOKEN_MIN_REMAINING_SECONDS * 1000;
      let next = lifetimeMs - minRemainingMs;
      if (next < lifetimeMs / 2) {
        this.log.warn(
          { expires_in: issued.expiresIn, min_remaining: this.config.TOKEN_MIN_REMAINING_SECONDS },
          'token lifetime is shorter than TOKEN_MIN_REMAINING_SECONDS allows; renewing at half-life',
        );
        next = lifetimeMs / 2;
      }
      this.log.info({ expires_in: issued.expiresIn, renew_in_ms: next }, 'workload token renewed');
      this.schedule(next);
    } catch (err) {
      const code = err instanceof TokenExchangeError ? err.code : 'unexpected error';
      if (!(err instanceof TokenExchangeError)) {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'renewal bug');
      }
      this.failures += 1;
      this.metrics.tokenRenewalFailed(code);
      const delay = Math.min(
        this.config.RENEW_BACKOFF_MAX_MS,
        this.config.RENEW_BACKOFF_INITIAL_MS * 2 ** Math.min(this.failures - 1, 20),
      );
      const remaining = Math.max(0, this.expiresAtMs() - this.clock.now());
      this.log.warn(
        { code, failures: this.failures, retry_in_ms: delay, token_valid_ms: remaining },
        'workload token renewal failed',
      );
      this.schedule(delay);
    }
  }

  private async workloadKey(): Promise<ApiKey> {
    if (this.key === undefined) {
      // DEV_BOOTSTRAP_KEY (validated: never in production).
      this.key = await this.auth.createRootKey();
      this.log.warn({ key_id: this.key.keyId }, 'dev: created a root key for the workload');
    }
    return this.key;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.cancelTimer?.();
    this.cancelTimer = this.clock.schedule(ms, () => void this.renew());
  }
}
