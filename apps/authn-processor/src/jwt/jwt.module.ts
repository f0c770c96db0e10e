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
import { JwksCache } from './jwks.cache';
import { HttpJwksFetcher, JwksFetcher } from './jwks.fetcher';
import { JwtVerifier } from './jwt-verifier';
import { CachingTokenVerifier, VerifiedTokenCache } from './verified-token.cache';

/**
 * JWT Bearer tokens, verified locally against the auth service's (cached) JWKS; repeated
 * tokens are answered from a bounded cache of verified tokens (CachingTokenVerifier).
 */
@Module({
  providers: [
    {
      provide: JwksFetcher,
      inject: [AUTHN_PROCESSOR_CONFIG, AUTH_TLS],
      useFactory: (c: AuthnProcessorConfig, tls: AuthTls | undefined) =>
        new HttpJwksFetcher(c.AUTH_JWKS_URL, c.JWKS_TIMEOUT_MS, tls?.ca),
    },
    {
      provide: JwksCache,
      inject: [JwksFetcher, Clock, LOGGER, AUTHN_PROCESSOR_CONFIG],
      useFactory: (f: JwksFetcher, clock: Clock, log: Logger, c: AuthnProcessorConfig) =>
        new JwksCache(f, clock, log, {
          maxAgeMs: c.JWKS_CACHE_MAX_AGE_SECONDS * 1000,
          cooldownMs: c.JWKS_COOLDOWN_SECONDS * 1000,
        }),
    },
    {
      provide: JwtVerifier,
      inject: [JwksCache, Clock, AUTHN_PROCESSOR_CONFIG],
      useFactory: (jwks: JwksCache, clock: Clock, c: AuthnProcessorConfig) =>
        new JwtVerifier(jwks, clock, {
          issuer: c.JWT_ISSUER,
          audience: c.JWT_AUDIENCE,
          algorithms: c.JWT_ALGORITHMS,
          clockToleranceSeconds: c.JWT_CLOCK_TOLERANCE_SECONDS,
          maxTtlSeconds: c.JWT_MAX_TTL_SECONDS,
        }),
    },
    {
      provide: VerifiedTokenCache,
      inject: [JwksCache, Clock, AUTHN_PROCESSOR_CONFIG],
      useFactory: (jwks: JwksCache, clock: Clock, c: AuthnProcessorConfig) => {
        const cache = new VerifiedTokenCache(clock, {
          maxEntries: c.JWT_CACHE_MAX_ENTRIES,
          maxTtlMs: c.JWT_CACHE_TTL_SECONDS * 1000,
          clockToleranceSeconds: c.JWT_CLOCK_TOLERANCE_SECONDS,
        });
        // A retired / replaced signing key: nothing verified with the old set is served again.
        jwks.onKeysRemoved(() => cache.clear());
        return cache;
      },
    },
    {
      provide: CachingTokenVerifier,
      inject: [JwtVerifier, VerifiedTokenCache],
      useFactory: (verifier: JwtVerifier, cache: VerifiedTokenCache) =>
        new CachingTokenVerifier(verifier, cache),
    },
  ],
  exports: [JwtVerifier, CachingTokenVerifier, VerifiedTokenCache],
})
export class JwtModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(JwksCache) private readonly jwks: JwksCache,
    @Inject(JwksFetcher) private readonly fetcher: JwksFetcher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Warms the JWKS at boot; not fatal (the auth service may start later). */
  onApplicationBootstrap(): void {
    this.jwks.refresh().catch((e: unknown) => {
      this.logger.warn(
        { event: 'jwks_prefetch_failed', err: (e as Error).message },
        'JWKS not available yet; fetched on the first Bearer request',
      );
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.fetcher instanceof HttpJwksFetcher) await this.fetcher.close();
  }
}
