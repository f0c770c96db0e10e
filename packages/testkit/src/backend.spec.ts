import { describe, expect, it } from 'vitest';
import { backendKindFromEnv, infraBackend } from './backend';

describe('backendKindFromEnv', () => {
  it('defaults to local', () => {
    expect(backendKindFromEnv(undefined)).toBe('local');
    expect(backendKindFromEnv('')).toBe('local');
    expect(backendKindFromEnv('local')).toBe('local');
  });

  it('rejects unknown values instead of falling back', () => {
    expect(() => backendKindFromEnv('docker')).toThrow(/EDGE_INFRA_BACKEND=docker/);
  });
});

describe('infraBackend', () => {
  it('picks the backend from the environment', () => {
    expect(infraBackend({}).kind).toBe('local');
    expect(infraBackend({ EDGE_INFRA_BACKEND: 'testcontainers' }).kind).toBe('testcontainers');
  });

  it('testcontainers: refuses what containers cannot do, before touching the engine', async () => {
    const backend = infraBackend({ EDGE_INFRA_BACKEND: 'testcontainers' });
    await expect(backend.postgres({ name: 'dev', persistent: true })).rejects.toThrow(
      /local backend\) only/,
    );
    await expect(
      backend.nodeService({ name: 'auth', entry: '/nowhere/main.js', env: {} }),
    ).rejects.toThrow(/runs apps from images; pass image/);
  });
});
