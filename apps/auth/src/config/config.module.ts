import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from '@edge/auth-contract';
import { RandomSource } from '../common/random';
import { AUTH_CONFIG, type AuthConfig } from './config';

/** Provides the validated configuration (parsed once, in main.ts) and the side-effect seams. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: AUTH_CONFIG, useValue: config },
        { provide: Clock, useClass: SystemClock },
        RandomSource,
      ],
      exports: [AUTH_CONFIG, Clock, RandomSource],
    };
  }
}
