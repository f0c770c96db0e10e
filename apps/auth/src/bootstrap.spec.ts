import { describe, expect, it } from 'vitest';
import { grpcOptions, nestLogLevels } from './bootstrap';

describe('bootstrap helpers', () => {
  it('maps pino levels to Nest levels at or above them', () => {
    expect(nestLogLevels('info')).toEqual(['log', 'warn', 'error', 'fatal']);
    expect(nestLogLevels('error')).toEqual(['error', 'fatal']);
    expect(nestLogLevels('trace')).toHaveLength(6);
  });

  it('serves edge.auth.v1 and grpc.health.v1 on HOST:GRPC_PORT', () => {
    const o = grpcOptions({ HOST: '127.0.0.1', GRPC_PORT: 7001 });
    expect(o.options).toMatchObject({
      url: '127.0.0.1:7001',
      package: ['edge.auth.v1', 'grpc.health.v1'],
    });
    // Served from the generated service definitions, never from .proto files at run time.
    expect(o.options).not.toHaveProperty('protoPath');
    // Plaintext unless TLS material is given (Nest then binds insecure credentials).
    expect(o.options).not.toHaveProperty('credentials');
    expect(Object.keys(o.options.packageDefinition as object)).toEqual([
      'edge.auth.v1.KeyVerificationService',
      'grpc.health.v1.Health',
    ]);
  });
});
