import { type FrontProxyStack } from '@edge/e2e';
import { renderEnvoyConfig } from '@edge/envoy-config';
import { UNLIMITED_CLIENT } from './load';

/** The logging filter's part in a benchmark's front proxy: left out unless given. */
export interface BenchLogging {
  observabilityMode: boolean;
}

/**
 * envoy/front-proxy.yaml rendered for a benchmark row beside the e2e stack: on its own ports,
 * straight to echo (not through its sidecar, so rows differ by their filters only), the
 * per-client rate limit out of the way (all load comes from one address), the stack's
 * processors (or other servers in their place: pass other `ports`), and the logging filter only
 * when `logging` is given.
 */
export function benchFrontProxyYaml(
  stack: Pick<FrontProxyStack, 'ports'>,
  port: number,
  admin: number,
  logging?: BenchLogging,
): string {
  return renderEnvoyConfig('front-proxy', {
    LISTEN_HOST: '127.0.0.1',
    FRONT_PROXY_PORT: port,
    ADMIN_PORT: admin,
    ECHO_PORT: stack.ports.echo,
    AUTHN_PROCESSOR_PORT: stack.ports.authn,
    IDEMPOTENCY_PROCESSOR_PORT: stack.ports.idempotency,
    ...UNLIMITED_CLIENT,
    // With logging off the filter is out of the chain; its clusters are never used.
    LOGGING_PROCESSOR_PORT: logging ? stack.ports.logging : stack.ports.authn,
    LOGGING_ACCESS_LOG_PORT: logging ? stack.ports.loggingAccessLog : stack.ports.authn,
    LOGGING_DISABLED: logging === undefined,
    LOGGING_OBSERVABILITY_MODE: logging?.observabilityMode ?? true,
    CONSUMER_PORT: logging ? stack.ports.consumer : stack.ports.echo,
  });
}
