import { readFileSync } from 'node:fs';
import { DEV_XDS_PKI_DIR, devTopology, renderNode, type TopologyNode } from '@edge/envoy-config';
import { ConfigError, env, loadConfig, z } from '@edge/service-config';
import { NODE_ID_RE } from '@edge/xds-pki';

const int = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** The control plane's whole environment, read once at boot. */
export const controlPlaneConfigSchema = z.object({
  NODE_ENV: env.nodeEnv(),
  /** Admin HTTP API, /health, /metrics, /docs. */
  HOST: env.host(),
  PORT: env.port(7400),
  /** xDS (gRPC, ADS, mTLS only). */
  XDS_HOST: env.host(),
  XDS_PORT: env.port(18000),
  LOG_LEVEL: env.logLevel(),
  DATABASE_URL: env.url(),
  /** 0 = wait for Postgres forever at start-up. */
  DB_CONNECT_MAX_ATTEMPTS: z.coerce.number().int().min(0).default(0),
  DB_CONNECT_RETRY_DELAY_MS: z.coerce.number().int().min(50).default(1000),
  /** Bearer token of the admin API (from a Secret). Compared in constant time; never logged. */
  ADMIN_TOKEN: z.string().min(24, 'at least 24 characters').max(512),
  /**
   * The topology: `dev` (the dev stack's nodes, @edge/envoy-config's devTopology()) or the path of
   * a JSON file `{ "nodes": [{ "id", "cluster", "config": "front-proxy" | "sidecar", "vars" }] }`.
   */
  TOPOLOGY: z.string().min(1),
  /** The xDS PKI (@edge/xds-pki layout). Default: the dev stack's `.local/dev/xds-pki`. */
  XDS_PKI_DIR: z.string().min(1).default(DEV_XDS_PKI_DIR),
  /** Create the CA and missing certificates at start (dev stack, tests). Production: false. */
  XDS_PKI_INIT: env.bool(false),
  /**
   * How long a pushed resource may hold back what depends on it while its ACK is outstanding
   * (the xds-server's ordering: clusters before the routes that use them, ...), for a client
   * that never answers.
   */
  XDS_ACK_TIMEOUT_MS: int(5_000, 10, 60_000),
  /** JSON request bodies of the admin API. */
  JSON_BODY_LIMIT_BYTES: int(65_536, 1_024, 1_048_576),
  /** A Wasm module upload. */
  WASM_MAX_BYTES: int(4_194_304, 1_024, 16_777_216),
});

export type ControlPlaneEnv = z.infer<typeof controlPlaneConfigSchema>;

export interface ControlPlaneConfig extends ControlPlaneEnv {
  /** The nodes the topology names, each rendered once at boot (a bad value fails the boot). */
  nodes: TopologyNode[];
}

export const CONTROL_PLANE_CONFIG = Symbol('CONTROL_PLANE_CONFIG');

const varValue = z.union([z.string(), z.number(), z.boolean()]);
const topologyFileSchema = z.object({
  nodes: z
    .array(
      z.object({
        id: z.string().regex(NODE_ID_RE, 'a node id: [a-z0-9][a-z0-9_.-]{0,62}'),
        cluster: z.string().min(1).max(128),
        config: z.enum(['front-proxy', 'sidecar']),
        vars: z.record(z.string(), varValue),
      }),
    )
    .min(1),
});

export function loadTopology(spec: string): TopologyNode[] {
  if (spec === 'dev') return devTopology();
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (err) {
    throw new ConfigError('control-plane', [
      `TOPOLOGY: cannot read a JSON file at that path (${err instanceof Error ? err.name : 'error'})`,
    ]);
  }
  const parsed = topologyFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      'control-plane',
      parsed.error.issues.map((i) => `TOPOLOGY: ${i.path.join('.')}: ${i.message}`),
    );
  }
  return parsed.data.nodes as unknown as TopologyNode[];
}

export function loadControlPlaneConfig(
  source?: Record<string, string | undefined>,
): ControlPlaneConfig {
  const envConfig = loadConfig('control-plane', controlPlaneConfigSchema, source);
  const nodes = loadTopology(envConfig.TOPOLOGY);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.id)) problems.push(`TOPOLOGY: node ${node.id} listed twice`);
    seen.add(node.id);
    try {
      renderNode(node);
    } catch (err) {
      problems.push(`TOPOLOGY: node ${node.id}: ${err instanceof Error ? err.message : 'invalid'}`);
    }
  }
  if (problems.length > 0) throw new ConfigError('control-plane', problems);
  return { ...envConfig, nodes };
}
