import { type DynamicModule, Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  GATEWAY_EXTENSION_CONFIG,
  type GatewayExtensionConfig,
} from './config/gateway-extension.config';
import { ExtensionModule } from './extension/extension.module';
import { HealthServer } from './health/health-server.service';
import { createLogger, LOGGER, type Logger } from './logging/logger';

@Module({})
export class AppModule {
  static forRoot(config: GatewayExtensionConfig, logger?: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [ExtensionModule],
      providers: [
        { provide: GATEWAY_EXTENSION_CONFIG, useValue: config },
        { provide: LOGGER, useFactory: () => logger ?? createLogger(config.LOG_LEVEL) },
        {
          provide: Registry,
          useFactory: () => {
            const registry = new Registry();
            collectDefaultMetrics({ register: registry });
            return registry;
          },
        },
        HealthServer,
      ],
      exports: [GATEWAY_EXTENSION_CONFIG, LOGGER, Registry],
    };
  }
}
