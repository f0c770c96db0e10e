import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import {
  AUTHN_PROCESSOR_CONFIG,
  type AuthnProcessorConfig,
} from '../config/authn-processor.config';
import { JwtModule } from '../jwt/jwt.module';
import { CachingTokenVerifier, VerifiedTokenCache } from '../jwt/verified-token.cache';
import { KeyCache } from '../key-verification/key-cache';
import { KeyEventsWatcher } from '../key-verification/key-events.watcher';
import { KeyVerificationModule } from '../key-verification/key-verification.module';
import { KeyVerifier } from '../key-verification/key-verifier';
import { RevokedKeys } from '../key-verification/revoked-keys';
import { RotatedKeys } from '../key-verification/rotated-keys';
import { AuthnMetrics } from '../metrics/authn.metrics';
import { Authenticator } from './authenticator';

/** The processor's decisions and their dependencies (the processor itself lives in ExtProcModule). */
@Module({
  imports: [KeyVerificationModule, JwtModule],
  providers: [
    {
      provide: Authenticator,
      // The revoked-key_id check runs in the Authenticator after the token cache, on every request.
      inject: [KeyVerifier, CachingTokenVerifier, AUTHN_PROCESSOR_CONFIG, RevokedKeys, RotatedKeys],
      useFactory: (
        keys: KeyVerifier,
        tokens: CachingTokenVerifier,
        c: AuthnProcessorConfig,
        revoked: RevokedKeys,
        rotated: RotatedKeys,
      ) =>
        new Authenticator(
          keys,
          tokens,
          { maxAuthorizationBytes: c.MAX_AUTHORIZATION_BYTES, realm: c.AUTH_REALM },
          revoked,
          rotated,
        ),
    },
    {
      provide: AuthnMetrics,
      inject: [Registry, KeyVerifier, KeyCache, KeyEventsWatcher, VerifiedTokenCache],
      useFactory: (
        r: Registry,
        v: KeyVerifier,
        cache: KeyCache,
        w: KeyEventsWatcher,
        tokens: VerifiedTokenCache,
      ) => new AuthnMetrics(r, v, cache, w, tokens),
    },
  ],
  exports: [Authenticator, AuthnMetrics],
})
export class AuthnModule {}
