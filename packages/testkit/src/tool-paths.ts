import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Paths written by scripts/infra/setup.sh into `<repo>/.tools/infra.env`. */
export interface ToolPaths {
  repoRoot: string;
  envoyBin: string;
  javaBin: string;
  kafkaLibs: string;
  /** Class-data-sharing archive for a faster broker start; '' when absent. */
  kafkaCdsArchive: string;
  pgBinDir: string;
  /** Unprivileged user postgres runs as when we are root; empty when not root. */
  pgRunAsUser: string;
  redisServerBin: string;
  setprivBin: string;
  versions: { envoy: string; kafka: string; postgres: string; redis: string; java: string };
}

const SETUP_HINT = 'run scripts/infra/setup.sh';

/** Parses `KEY=value` lines; `#` comments and blank lines are ignored. No quoting, no expansion. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** Turns the parsed env file into ToolPaths, naming every missing key. */
export function toolPathsFromEnv(env: Record<string, string>, source: string): ToolPaths {
  const required = [
    'REPO_ROOT',
    'ENVOY_BIN',
    'JAVA_BIN',
    'KAFKA_LIBS',
    'PG_BIN_DIR',
    'REDIS_SERVER_BIN',
    'SETPRIV_BIN',
  ] as const;
  const missing = required.filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new Error(`${source} lacks ${missing.join(', ')}: ${SETUP_HINT}`);
  }
  const get = (k: string): string => env[k] ?? '';
  return {
    repoRoot: get('REPO_ROOT'),
    envoyBin: get('ENVOY_BIN'),
    javaBin: get('JAVA_BIN'),
    kafkaLibs: get('KAFKA_LIBS'),
    kafkaCdsArchive: get('KAFKA_CDS_ARCHIVE'),
    pgBinDir: get('PG_BIN_DIR'),
    pgRunAsUser: get('PG_RUN_AS_USER'),
    redisServerBin: get('REDIS_SERVER_BIN'),
    setprivBin: get('SETPRIV_BIN'),
    versions: {
      envoy: get('ENVOY_VERSION'),
      kafka: get('KAFKA_VERSION'),
      postgres: get('PG_VERSION'),
      redis: get('REDIS_VERSION'),
      java: get('JAVA_VERSION'),
    },
  };
}

/** The monorepo root: the nearest ancestor of `from` holding pnpm-workspace.yaml. */
export function findRepoRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no pnpm-workspace.yaml above ${from}: cannot locate the repo root`);
    }
    dir = parent;
  }
}

/**
 * Reads `<repo>/.tools/infra.env` and checks that every binary it names exists.
 * Throws (never skips) when anything is missing: the fix is always `scripts/infra/setup.sh`.
 */
export function loadToolPaths(repoRoot: string = findRepoRoot()): ToolPaths {
  const file = join(repoRoot, '.tools', 'infra.env');
  if (!existsSync(file)) {
    throw new Error(`${file} not found: ${SETUP_HINT}`);
  }
  const paths = toolPathsFromEnv(parseEnvFile(readFileSync(file, 'utf8')), file);
  const mustExist = [
    paths.envoyBin,
    paths.javaBin,
    paths.kafkaLibs,
    join(paths.pgBinDir, 'postgres'),
    join(paths.pgBinDir, 'initdb'),
    paths.redisServerBin,
    paths.setprivBin,
  ];
  const absent = mustExist.filter((p) => !existsSync(p));
  if (absent.length > 0) {
    throw new Error(`missing infra binaries (${absent.join(', ')}): ${SETUP_HINT}`);
  }
  return paths;
}
