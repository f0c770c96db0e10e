import { type loadPackageDefinition } from '@grpc/grpc-js';
import { authV1, health } from '@edge/protos';

// The auth gRPC API is spoken one way: through the ts-proto code generated from
// proto/edge/auth/v1/auth.proto (`@edge/protos`), on the server (apps/auth) and the client
// (apps/authn-processor) alike; no .proto file is loaded at run time.
export { authV1, health };

/** grpc-js's PackageDefinition (not exported by name from its entry point). */
export type PackageDefinition = Parameters<typeof loadPackageDefinition>[0];

export const KEY_VERIFICATION_SERVICE = 'edge.auth.v1.KeyVerificationService';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/**
 * A grpc-js package definition of the services the auth gRPC port serves, built from the
 * generated service definitions (for servers that take a package definition, e.g. Nest's gRPC
 * transport: `packageDefinition`, `package: ['edge.auth.v1', 'grpc.health.v1']`).
 */
export function authGrpcPackageDefinition(): PackageDefinition {
  return {
    [KEY_VERIFICATION_SERVICE]: authV1.KeyVerificationServiceService,
    [HEALTH_SERVICE]: health.HealthService,
  };
}
