import { describe, expect, it } from 'vitest';
import { ConfigError, env, loadConfig, z } from './index';

const schema = z.object({
  PORT: env.port(7000),
  DATABASE_URL: env.url(),
  API_SECRET: z.string().min(32),
  DEBUG: env.bool(false),
});

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const cfg = loadConfig('svc', schema, {
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      API_SECRET: 'x'.repeat(32),
      DEBUG: '1',
    });
    expect(cfg).toEqual({
      PORT: 7000,
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      API_SECRET: 'x'.repeat(32),
      DEBUG: true,
    });
  });

  it('reports every bad variable at once, without echoing values', () => {
    let err: unknown;
    try {
      loadConfig('svc', schema, { PORT: 'nope', API_SECRET: 'short-secret-value' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'DATABASE_URL', 'API_SECRET']);
    expect((err as Error).message).not.toContain('short-secret-value');
  });
});
