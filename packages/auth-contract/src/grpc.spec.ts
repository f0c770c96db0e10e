import { loadPackageDefinition } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { authGrpcPackageDefinition, authV1 } from './grpc';

describe('auth gRPC package definition', () => {
  it('is built from the generated service definitions, loadable by grpc-js', () => {
    const def = authGrpcPackageDefinition();
    expect(def['edge.auth.v1.KeyVerificationService']).toBe(authV1.KeyVerificationServiceService);
    const loaded = loadPackageDefinition(def) as unknown as {
      edge: { auth: { v1: { KeyVerificationService: { service: Record<string, unknown> } } } };
      grpc: { health: { v1: { Health: unknown } } };
    };
    expect(Object.keys(loaded.edge.auth.v1.KeyVerificationService.service)).toEqual(
      expect.arrayContaining(['verifyKey', 'watchKeyEvents']),
    );
    expect(loaded.grpc.health.v1.Health).toBeDefined();
  });
});
