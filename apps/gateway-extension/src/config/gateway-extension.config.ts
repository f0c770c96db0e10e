import { env, loadConfig, z } from '@edge/service-config';

const int = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** An Envoy cluster name (what Envoy accepts, kept to printable names without spaces). */
const clusterName = z
  .string()
  .regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'an Envoy cluster name ([A-Za-z0-9_.:/-], 1..128)');

export const gatewayExtensionConfigSchema = z.object({
  /**
   * The gRPC extension service (envoygateway.extension.EnvoyGatewayExtension) Envoy Gateway's
   * `extensionManager.service` points at. Loopback by default; in a cluster the chart sets the
   * pod address.
   */
  GRPC_HOST: env.host(),
  GRPC_PORT: env.port(7500),
  /** GET /health and GET /metrics (Prometheus); 0 disables the listener. */
  METRICS_PORT: env.port(7501),
  LOG_LEVEL: env.logLevel(),

  /**
   * The authn processor the inserted ext_proc filter calls, as Envoy Gateway's Envoy reaches it:
   * its cluster is added by PostTranslateModify when absent. A host name makes a STRICT_DNS
   * cluster (a Kubernetes Service), an IP address a STATIC one.
   */
  AUTHN_PROCESSOR_HOST: z.string().min(1).default('127.0.0.1'),
  AUTHN_PROCESSOR_PORT: env.port(9001),
  AUTHN_CLUSTER_NAME: clusterName.default('edge_authn_processor'),

  /** Extension resources (policies) larger than this are refused and reported. */
  MAX_RESOURCE_BYTES: int(256 * 1024, 1024, 16 * 1024 * 1024),
  /** On SIGTERM: how long in-flight hook calls may take before the server is forced down. */
  SHUTDOWN_GRACE_MS: int(5_000, 0, 60_000),
});

export type GatewayExtensionConfig = z.infer<typeof gatewayExtensionConfigSchema>;

export const GATEWAY_EXTENSION_CONFIG = Symbol('GATEWAY_EXTENSION_CONFIG');

export function loadGatewayExtensionConfig(
  source?: Record<string, string | undefined>,
): GatewayExtensionConfig {
  return loadConfig('gateway-extension', gatewayExtensionConfigSchema, source);
}
