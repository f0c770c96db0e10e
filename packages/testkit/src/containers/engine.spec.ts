import { describe, expect, it } from 'vitest';
import { containerName, imageName } from './engine';

describe('container naming', () => {
  it('names images edge/<part>:<tag>', () => {
    expect(imageName('postgres', 'local')).toBe('edge/postgres:local');
  });

  it('gives each container a unique, docker-safe name with the owner pid', () => {
    const a = containerName('e2e auth/1', 42);
    expect(a).toMatch(/^edge-e2e-auth-1-42-[0-9a-f]{6}$/);
    expect(containerName('x', 42)).not.toBe(containerName('x', 42));
  });
});
