import { containersBackend } from './containers';
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
 * The backend chosen by EDGE_INFRA_BACKEND=local|testcontainers (default local). The
 * testcontainers backend runs the images tagged EDGE_IMAGE_TAG (default `local`).
 */
export function infraBackend(env: NodeJS.ProcessEnv = process.env): InfraBackend {
  return backendKindFromEnv(env.EDGE_INFRA_BACKEND) === 'local'
    ? localBackend()
    : containersBackend(env.EDGE_IMAGE_TAG?.trim() || 'local');
}
