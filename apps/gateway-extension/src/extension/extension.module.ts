import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { GatewayExtensionMetrics } from '../metrics/gateway-extension.metrics';
import { ExtensionServer } from './extension.server';
import { ExtensionService } from './extension.service';

/** The hooks, their gRPC server and their metrics. */
@Module({
  providers: [
    {
      provide: GatewayExtensionMetrics,
      inject: [Registry],
      useFactory: (registry: Registry) => new GatewayExtensionMetrics(registry),
    },
    ExtensionService,
    ExtensionServer,
  ],
  exports: [ExtensionServer, ExtensionService, GatewayExtensionMetrics],
})
export class ExtensionModule {}
