import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { typeOrmRootModule } from '@edge/nest-common/database';
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
        typeOrmRootModule({
          options: typeOrmOptions(config),
          migrationLockId: MIGRATION_LOCK,
          connectMaxAttempts: config.DB_CONNECT_MAX_ATTEMPTS,
          connectRetryDelayMs: config.DB_CONNECT_RETRY_DELAY_MS,
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
