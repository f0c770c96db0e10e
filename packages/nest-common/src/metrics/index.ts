export { MetricsController } from './metrics.controller';
