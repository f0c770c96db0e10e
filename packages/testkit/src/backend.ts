import { localBackend } from './local';
import type { InfraBackend } from './types';

export type BackendKind = InfraBackend['kind'];

/** Reads EDGE_INFRA_BACKEND (default `local`); anything else is an error, not a fallback. */
export function backendKindFromEnv(value: string | undefined): BackendKind {
  const v = (value ?? '').trim();
  if (v === '' || v === 'local') return 'local';
  if (v === 'testcontainers') return 'testcontainers';
  throw new Error(`EDGE_INFRA_BACKEND=${v} is not one of: local, testcontainers`);
}

/**
 * TODO(testcontainers): start the same parts as containers (postgres, redis, apache/kafka,
 * envoyproxy/envoy images) behind the same InfraBackend interface, for machines with a
 * container runtime. Not built yet: this machine has no container images.
 */
function testcontainersBackend(): InfraBackend {
  const fail = (): Promise<never> =>
    Promise.reject(
      new Error(
        'testcontainers backend not available: not implemented yet (set EDGE_INFRA_BACKEND=local or unset it)',
      ),
    );
  return {
    kind: 'testcontainers',
    postgres: fail,
    redis: fail,
    kafka: fail,
    envoy: fail,
  };
}

/** The backend chosen by EDGE_INFRA_BACKEND=local|testcontainers (default local). */
export function infraBackend(env: NodeJS.ProcessEnv = process.env): InfraBackend {
  return backendKindFromEnv(env.EDGE_INFRA_BACKEND) === 'local'
    ? localBackend()
    : testcontainersBackend();
}
