import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { JsonExceptionFilter } from './common/json-exception.filter';
import { HEADER_PROVIDER_CONFIG, type HeaderProviderConfig } from './config/header-provider.config';
import { HeadersModule } from './headers/headers.module';
import { HealthModule } from './health/health.module';
import { LOGGER, type Logger } from './logging/logger';
import { MetricsModule } from './metrics/metrics.module';

@Module({})
export class AppModule {
  static forRoot(config: HeaderProviderConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [MetricsModule, HeadersModule, HealthModule],
      providers: [
        { provide: HEADER_PROVIDER_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: JsonExceptionFilter },
      ],
      exports: [HEADER_PROVIDER_CONFIG, LOGGER],
    };
  }
}
