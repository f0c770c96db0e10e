import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { initializeWithMigrationLock } from '@edge/nest-common/database';
import { AuthModule } from './auth/auth.module';
import { ApiThrottlerGuard, throttlerOptions } from './common/api-throttler.guard';
import { type AuthConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { MIGRATION_LOCK, typeOrmOptions } from './database/typeorm-options';
import { HealthModule } from './health/health.module';
import { KeysModule } from './keys/keys.module';
import { TokensModule } from './tokens/tokens.module';
import { VerificationModule } from './verification/verification.module';

/** Headers that carry credentials: never logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

@Module({})
export class AppModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ThrottlerModule.forRoot(throttlerOptions(config)),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            // Request/response bodies are never logged (they carry secrets and tokens).
            serializers: {
              req: (req: { id: unknown; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: req.url,
              }),
            },
            autoLogging: { ignore: (req) => req.url === '/health' },
          },
        }),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...typeOrmOptions(config),
            // Wait for Postgres at start-up instead of crash-looping (0 = forever).
            retryAttempts:
              config.DB_CONNECT_MAX_ATTEMPTS === 0
                ? Number.POSITIVE_INFINITY
                : config.DB_CONNECT_MAX_ATTEMPTS,
            retryDelay: config.DB_CONNECT_RETRY_DELAY_MS,
          }),
          dataSourceFactory: (options) => {
            if (!options) throw new Error('TypeORM options missing');
            return initializeWithMigrationLock(options, MIGRATION_LOCK);
          },
        }),
        KeysModule,
        TokensModule,
        AuthModule,
        VerificationModule,
        HealthModule,
      ],
      providers: [{ provide: APP_GUARD, useClass: ApiThrottlerGuard }],
    };
  }
}
