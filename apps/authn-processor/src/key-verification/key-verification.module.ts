import {
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Clock } from '@edge/auth-contract';
import {
  AUTHN_PROCESSOR_CONFIG,
  type AuthnProcessorConfig,
} from '../config/authn-processor.config';
import { LOGGER, type Logger } from '../logging/logger';
import { AUTH_TLS, type AuthTls } from '../tls/auth-tls';
import { GrpcKeyVerificationBackend } from './grpc-key-verification.backend';
import { KeyCache } from './key-cache';
import { KeyEventsWatcher } from './key-events.watcher';
import { KeyVerificationBackend } from './key-verification.backend';
import { KeyVerifier } from './key-verifier';
import { RevokedKeys } from './revoked-keys';
import { RotatedKeys } from './rotated-keys';
import { UnknownKeys } from './unknown-keys';

/**
 * API keys: the auth service's gRPC API, the positive-result cache, the short negative cache of
 * unknown key ids and the revocation stream.
 */
@Module({
  providers: [
    {
      provide: KeyVerificationBackend,
      inject: [AUTHN_PROCESSOR_CONFIG, AUTH_TLS],
      useFactory: (c: AuthnProcessorConfig, tls: AuthTls | undefined) =>
        new GrpcKeyVerificationBackend({
          address: c.AUTH_GRPC_URL,
          verifyTimeoutMs: c.AUTH_VERIFY_TIMEOUT_MS,
          ...(tls !== undefined ? { tls } : {}),
        }),
    },
    {
      provide: KeyCache,
      inject: [Clock, AUTHN_PROCESSOR_CONFIG],
      useFactory: (clock: Clock, c: AuthnProcessorConfig) =>
        new KeyCache(clock, {
          maxEntries: c.KEY_CACHE_MAX_ENTRIES,
          maxTtlMs: c.KEY_CACHE_TTL_SECONDS * 1000,
        }),
    },
    {
      provide: RevokedKeys,
      inject: [Clock, AUTHN_PROCESSOR_CONFIG],
      useFactory: (clock: Clock, c: AuthnProcessorConfig) =>
        new RevokedKeys(clock, {
          ttlMs: (c.JWT_MAX_TTL_SECONDS + c.JWT_CLOCK_TOLERANCE_SECONDS) * 1000,
        }),
    },
    {
      provide: RotatedKeys,
      inject: [Clock, AUTHN_PROCESSOR_CONFIG],
      useFactory: (clock: Clock, c: AuthnProcessorConfig) =>
        new RotatedKeys(clock, {
          ttlMs: (c.JWT_MAX_TTL_SECONDS + c.JWT_CLOCK_TOLERANCE_SECONDS) * 1000,
        }),
    },
    {
      provide: KeyEventsWatcher,
      inject: [
        KeyVerificationBackend,
        KeyCache,
        LOGGER,
        AUTHN_PROCESSOR_CONFIG,
        RevokedKeys,
        RotatedKeys,
      ],
      useFactory: (
        b: KeyVerificationBackend,
        cache: KeyCache,
        log: Logger,
        c: AuthnProcessorConfig,
        revoked: RevokedKeys,
        rotated: RotatedKeys,
      ) =>
        new KeyEventsWatcher(
          b,
          cache,
          log,
          {
            initialBackoffMs: c.AUTH_WATCH_BACKOFF_INITIAL_MS,
            maxBackoffMs: c.AUTH_WATCH_BACKOFF_MAX_MS,
            revokedWindowSeconds: c.JWT_MAX_TTL_SECONDS + c.JWT_CLOCK_TOLERANCE_SECONDS,
          },
          revoked,
          rotated,
        ),
    },
    {
      provide: UnknownKeys,
      inject: [Clock, AUTHN_PROCESSOR_CONFIG],
      useFactory: (clock: Clock, c: AuthnProcessorConfig) =>
        new UnknownKeys(clock, {
          maxEntries: c.UNKNOWN_KEY_CACHE_MAX_ENTRIES,
          ttlMs: c.UNKNOWN_KEY_CACHE_TTL_MS,
        }),
    },
    {
      provide: KeyVerifier,
      inject: [KeyVerificationBackend, KeyCache, KeyEventsWatcher, Clock, UnknownKeys],
      useFactory: (
        b: KeyVerificationBackend,
        cache: KeyCache,
        w: KeyEventsWatcher,
        clock: Clock,
        unknown: UnknownKeys,
      ) => new KeyVerifier(b, cache, w, clock, unknown),
    },
  ],
  exports: [KeyVerifier, KeyCache, KeyEventsWatcher, RevokedKeys, RotatedKeys],
})
export class KeyVerificationModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(KeyEventsWatcher) private readonly watcher: KeyEventsWatcher,
    @Inject(KeyVerificationBackend) private readonly backend: KeyVerificationBackend,
  ) {}

  onApplicationBootstrap(): void {
    this.watcher.start();
  }

  onApplicationShutdown(): void {
    this.watcher.stop();
    this.backend.close();
  }
}
