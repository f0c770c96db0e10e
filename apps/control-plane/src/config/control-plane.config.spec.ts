import { describe, expect, it } from 'vitest';
import { loadControlPlaneConfig } from './control-plane.config';

const base = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/edge',
  ADMIN_TOKEN: 'x'.repeat(32),
  TOPOLOGY: 'dev',
};

describe('loadControlPlaneConfig', () => {
  it('reads the dev topology with the default ports', () => {
    const c = loadControlPlaneConfig(base);
    expect(c.PORT).toBe(7400);
    expect(c.XDS_PORT).toBe(18000);
    expect(c.nodes.map((n) => n.id)).toEqual(['front-proxy', 'echo-sidecar']);
  });

  it('reports every bad variable without echoing values', () => {
    let message = '';
    try {
      loadControlPlaneConfig({ ...base, ADMIN_TOKEN: 'short-secret', XDS_PORT: 'x' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/ADMIN_TOKEN: at least 24 characters/);
    expect(message).toMatch(/XDS_PORT/);
    expect(message).not.toContain('short-secret');
  });

  it('refuses a topology file that is missing', () => {
    expect(() => loadControlPlaneConfig({ ...base, TOPOLOGY: '/nonexistent.json' })).toThrow(
      /TOPOLOGY: cannot read/,
    );
  });
});
