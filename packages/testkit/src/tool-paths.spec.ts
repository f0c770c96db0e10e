import { describe, expect, it } from 'vitest';
import { parseEnvFile, toolPathsFromEnv } from './tool-paths';

const full = {
  REPO_ROOT: '/r',
  ENVOY_BIN: '/r/.tools/bin/envoy',
  JAVA_BIN: '/usr/bin/java',
  KAFKA_LIBS: '/r/.tools/kafka/libs',
  PG_BIN_DIR: '/usr/lib/postgresql/15/bin',
  REDIS_SERVER_BIN: '/usr/bin/redis-server',
  SETPRIV_BIN: '/usr/bin/setpriv',
  PG_RUN_AS_USER: 'postgres',
  KAFKA_VERSION: '4.3.1',
};

describe('parseEnvFile', () => {
  it('reads KEY=value lines and skips comments and blanks', () => {
    const env = parseEnvFile('# header\n\nA=1\n B = two words \nNOEQ\n=x\nC=a=b\n');
    expect(env).toEqual({ A: '1', B: 'two words', C: 'a=b' });
  });
});

describe('toolPathsFromEnv', () => {
  it('maps the env file to paths and versions', () => {
    const paths = toolPathsFromEnv(full, 'infra.env');
    expect(paths.pgBinDir).toBe('/usr/lib/postgresql/15/bin');
    expect(paths.pgRunAsUser).toBe('postgres');
    expect(paths.versions.kafka).toBe('4.3.1');
  });

  it('names every missing key and says how to fix it', () => {
    const { ENVOY_BIN: _e, JAVA_BIN: _j, ...partial } = full;
    expect(() => toolPathsFromEnv(partial, 'infra.env')).toThrow(
      'infra.env lacks ENVOY_BIN, JAVA_BIN: run scripts/infra/setup.sh',
    );
  });

  it('treats an empty PG_RUN_AS_USER as "run as ourselves"', () => {
    expect(toolPathsFromEnv({ ...full, PG_RUN_AS_USER: '' }, 'f').pgRunAsUser).toBe('');
  });
});
