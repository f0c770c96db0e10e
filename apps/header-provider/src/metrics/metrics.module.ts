import { Global, Module } from '@nestjs/common';
import { HeaderProviderMetrics } from './header-provider.metrics';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [HeaderProviderMetrics],
  exports: [HeaderProviderMetrics],
})
export class MetricsModule {}
