import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const AUTH_PROTO = 'edge/auth/v1/auth.proto';
export const HEALTH_PROTO = 'grpc/health/v1/health.proto';

/**
 * The directory holding the .proto files: `dist/proto` (copied there by the build, so a built
 * app is self-contained) or, when running from source (tests), the repo's `proto/`.
 */
export function findProtoRoot(start: string = __dirname): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, AUTH_PROTO)) && existsSync(join(candidate, HEALTH_PROTO))) {
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find ${AUTH_PROTO} above ${start}`);
}
