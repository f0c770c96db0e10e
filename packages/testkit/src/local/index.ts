import type { InfraBackend } from '../types';
import { startEnvoy } from './envoy';
import { LocalContext } from './instance';
import { startKafka } from './kafka';
import { startNodeService } from './node-service';
import { startPostgres } from './postgres';
import { startRedis } from './redis';

/**
 * Parts as project-local processes: binaries from scripts/infra/setup.sh (.tools/ and Debian
 * packages), data under <repo>/.local. Tool paths are read when the first part starts.
 */
export function localBackend(): InfraBackend {
  let ctx: LocalContext | undefined;
  const context = (): LocalContext => (ctx ??= LocalContext.load());
  return {
    kind: 'local',
    postgres: (opts) => startPostgres(context(), opts),
    redis: (opts) => startRedis(context(), opts),
    kafka: (opts) => startKafka(context(), opts),
    envoy: (opts) => startEnvoy(context(), opts),
    nodeService: (opts) => startNodeService(opts),
  };
}
