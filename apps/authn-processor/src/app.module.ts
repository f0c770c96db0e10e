import { type DynamicModule, Module } from '@nestjs/common';
import { type Logger } from '@edge/processor-core';
import { ExtProcModule } from '@edge/processor-core/nest';
import { Registry } from 'prom-client';
import { AuthnModule } from './authn/authn.module';
import { AuthnProcessor } from './authn/authn.processor';
import { Clock, SystemClock } from '@edge/auth-contract';
import { AUTHN_PROCESSOR_CONFIG, type AuthnProcessorConfig } from './config/authn-processor.config';
import { ExtProcLifecycle } from './ext-proc/ext-proc-lifecycle.service';
import { createLogger, LOGGER } from './logging/logger';
import { AUTH_TLS, type AuthTls } from './tls/auth-tls';

@Module({})
export class AppModule {
  static forRoot(config: AuthnProcessorConfig, tls?: AuthTls): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        AuthnModule,
        // processor-core's Nest integration: the processor is a provider of this module (DI),
        // messages go from grpc-js straight to it (no Nest pipeline per message).
        ExtProcModule.forRootAsync({
          processors: [AuthnProcessor],
          imports: [AuthnModule],
          inject: [AUTHN_PROCESSOR_CONFIG, LOGGER, Registry],
          useFactory: (c: AuthnProcessorConfig, logger: Logger, registry: Registry) => ({
            host: c.GRPC_HOST,
            port: c.GRPC_PORT,
            logger,
            metrics: { registry },
            // A bug in a hook must never let a request through unauthenticated.
            errorPolicy: { status: 503 },
          }),
        }),
      ],
      providers: [
        { provide: AUTHN_PROCESSOR_CONFIG, useValue: config },
        { provide: AUTH_TLS, useValue: tls },
        { provide: LOGGER, useFactory: () => createLogger(config.LOG_LEVEL) },
        { provide: Registry, useFactory: () => new Registry() },
        { provide: Clock, useClass: SystemClock },
        ExtProcLifecycle,
      ],
      exports: [AUTHN_PROCESSOR_CONFIG, AUTH_TLS, LOGGER, Registry, Clock],
    };
  }
}
