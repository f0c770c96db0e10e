import { ConfigError } from '@edge/service-config';
import { describe, expect, it } from 'vitest';
import { loadHeaderProviderConfig } from './header-provider.config';

const key = { WORKLOAD_KEY_ID: 'ak_0123', WORKLOAD_KEY_SECRET: 's3cret-value' };

function problems(source: Record<string, string>): string[] {
  try {
    loadHeaderProviderConfig(source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toContain('s3cret-value');
    return (err as ConfigError).problems;
  }
  return [];
}

describe('header-provider config', () => {
  it('has defaults', () => {
    const c = loadHeaderProviderConfig(key);
    expect(c).toMatchObject({
      PORT: 7200,
      HOST: '127.0.0.1',
      AUTH_URL: 'http://127.0.0.1:7000',
      TOKEN_HEADER: 'x-workload-token',
      TOKEN_MIN_REMAINING_SECONDS: 60,
      STATIC_HEADERS: {},
      DEV_BOOTSTRAP_KEY: false,
    });
  });

  it('parses STATIC_HEADERS and lower-cases TOKEN_HEADER', () => {
    const c = loadHeaderProviderConfig({
      ...key,
      STATIC_HEADERS: '{"x-mesh":"dev","bad name":"kept for the log"}',
      TOKEN_HEADER: 'X-Id-Token',
    });
    expect(c.STATIC_HEADERS).toEqual({ 'x-mesh': 'dev', 'bad name': 'kept for the log' });
    expect(c.TOKEN_HEADER).toBe('x-id-token');
  });

  it('reports every problem at once, without echoing the secret', () => {
    const p = problems({
      WORKLOAD_KEY_SECRET: 's3cret-value',
      STATIC_HEADERS: '{"x":1}',
      TOKEN_HEADER: 'bad header',
      PORT: 'x',
    });
    expect(p.map((s) => s.split(':')[0])).toEqual(
      expect.arrayContaining(['PORT', 'TOKEN_HEADER', 'STATIC_HEADERS.x']),
    );
    expect(problems({ STATIC_HEADERS: 'nope' })[0]).toContain('STATIC_HEADERS: not JSON');
  });

  it('requires a key unless the dev bootstrap is on, and refuses that in production', () => {
    expect(problems({})).toEqual([
      'WORKLOAD_KEY_ID: WORKLOAD_KEY_ID and WORKLOAD_KEY_SECRET are required (or DEV_BOOTSTRAP_KEY=true)',
    ]);
    expect(problems({ DEV_BOOTSTRAP_KEY: 'true' })).toEqual([]);
    expect(problems({ DEV_BOOTSTRAP_KEY: 'true', NODE_ENV: 'production' })).toEqual([
      'DEV_BOOTSTRAP_KEY: not allowed in production',
    ]);
  });

  it('refuses a static header that would shadow the token', () => {
    expect(problems({ ...key, STATIC_HEADERS: '{"X-Workload-Token":"forged"}' })).toEqual([
      'STATIC_HEADERS: must not set TOKEN_HEADER',
    ]);
  });
});
