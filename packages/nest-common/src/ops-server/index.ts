export {
  type HealthReport,
  type OpsServer,
  type OpsServerOptions,
  startOpsServer,
} from './ops-server';
