import { ConfigError } from '@edge/service-config';
import { describe, expect, it } from 'vitest';
import { DEV_API_KEY_PEPPER, isLoopbackHost } from './config.schema';
import { loadAuthConfig } from './config';

const DB = 'postgres://postgres@127.0.0.1:5432/edge';

function problems(source: Record<string, string>): string[] {
  try {
    loadAuthConfig(source);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  return [];
}

describe('auth config', () => {
  it('applies the documented defaults with the dev-mode opt-in', () => {
    const c = loadAuthConfig({ DATABASE_URL: DB, AUTH_DEV_MODE: '1' });
    expect(c).toMatchObject({
      NODE_ENV: 'development',
      AUTH_DEV_MODE: true,
      MAX_KEYS_PER_TENANT: 1000,
      KEYS_PAGE_DEFAULT: 50,
      KEYS_PAGE_MAX: 200,
      THROTTLE_LIMIT: 300,
      THROTTLE_TTL_SECONDS: 60,
      THROTTLE_CREDENTIAL_LIMIT: 60,
      HOST: '127.0.0.1',
      PORT: 7000,
      GRPC_PORT: 7001,
      JWT_TTL_SECONDS: 300,
      DB_CONNECT_MAX_ATTEMPTS: 0,
      API_KEY_PEPPER: DEV_API_KEY_PEPPER,
    });
    expect(c.ADMIN_TOKEN).toBeUndefined();
    expect(Buffer.from(c.SIGNING_KEY_ENCRYPTION_KEY, 'base64')).toHaveLength(32);
  });

  it('requires DATABASE_URL and reports every bad variable', () => {
    const p = problems({ PORT: 'x', JWT_TTL_SECONDS: '0', AUTH_DEV_MODE: '1' });
    expect(p.map((s) => s.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'JWT_TTL_SECONDS',
      'PORT',
    ]);
  });

  it('requires the admin token and server secrets in production, without echoing values', () => {
    const p = problems({ DATABASE_URL: DB, NODE_ENV: 'production', ADMIN_TOKEN: 'short' });
    expect(p.map((s) => s.split(':')[0]).sort()).toEqual([
      'ADMIN_TOKEN',
      'API_KEY_PEPPER',
      'SIGNING_KEY_ENCRYPTION_KEY',
    ]);
    expect(p.join('\n')).not.toContain('short');
  });

  it('does not fall back to public secrets just because NODE_ENV is unset or not production', () => {
    for (const NODE_ENV of [undefined, 'development', 'test']) {
      const src: Record<string, string> = { DATABASE_URL: DB };
      if (NODE_ENV) src.NODE_ENV = NODE_ENV;
      expect(
        problems(src)
          .map((s) => s.split(':')[0])
          .sort(),
        String(NODE_ENV),
      ).toEqual(['ADMIN_TOKEN', 'API_KEY_PEPPER', 'SIGNING_KEY_ENCRYPTION_KEY']);
    }
    expect(problems({ DATABASE_URL: DB, AUTH_DEV_MODE: '0' })).toHaveLength(3);
  });

  it('refuses dev mode with NODE_ENV=production or a non-loopback HOST', () => {
    expect(
      problems({ DATABASE_URL: DB, AUTH_DEV_MODE: '1', NODE_ENV: 'production' }).map(
        (s) => s.split(':')[0],
      ),
    ).toEqual(['AUTH_DEV_MODE']);
    for (const HOST of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '128.0.0.1']) {
      expect(
        // Refused twice over: dev mode is loopback only, and plaintext needs loopback too.
        [
          ...new Set(
            problems({ DATABASE_URL: DB, AUTH_DEV_MODE: 'true', HOST }).map((s) => s.split(':')[0]),
          ),
        ],
        HOST,
      ).toEqual(['HOST']);
    }
    for (const HOST of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) {
      expect(loadAuthConfig({ DATABASE_URL: DB, AUTH_DEV_MODE: '1', HOST }).HOST).toBe(HOST);
    }
    expect(isLoopbackHost('::ffff:127.0.0.1')).toBe(true);
    expect(
      problems({ DATABASE_URL: DB, AUTH_DEV_MODE: 'yes' }).map((s) => s.split(':')[0]),
    ).toContain('AUTH_DEV_MODE');
  });

  it('accepts a complete production configuration', () => {
    const c = loadAuthConfig({
      DATABASE_URL: DB,
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'a'.repeat(32),
      API_KEY_PEPPER: 'p'.repeat(32),
      SIGNING_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    expect(c.API_KEY_PEPPER).toBe('p'.repeat(32));
  });

  it('rejects an encryption key of the wrong size and a publish-ahead >= rotation', () => {
    const p = problems({
      DATABASE_URL: DB,
      AUTH_DEV_MODE: '1',
      SIGNING_KEY_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64'),
      SIGNING_KEY_ROTATION_SECONDS: '60',
      SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '60',
    });
    expect(p.map((s) => s.split(':')[0]).sort()).toEqual([
      'SIGNING_KEY_ENCRYPTION_KEY',
      'SIGNING_KEY_PUBLISH_AHEAD_SECONDS',
    ]);
  });
});

describe('auth config: TLS block', () => {
  // A production-like config (its own secrets, no dev opt-in): only the TLS rules are under test.
  const SECRETS = {
    DATABASE_URL: DB,
    ADMIN_TOKEN: 'a'.repeat(32),
    API_KEY_PEPPER: 'p'.repeat(32),
    SIGNING_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  };
  it('is plaintext by default on loopback', () => {
    const c = loadAuthConfig({ ...SECRETS });
    expect(c.TLS_CERT_FILE).toBeUndefined();
    expect(c.ALLOW_PLAINTEXT_NON_LOOPBACK).toBe(false);
    for (const HOST of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) {
      expect(problems({ ...SECRETS, HOST })).toEqual([]);
    }
  });

  it('needs all three TLS files or none, and reports each missing one', () => {
    const p = problems({ ...SECRETS, TLS_CERT_FILE: '/x/server.crt' });
    expect(p.map((s) => s.split(':')[0]).sort()).toEqual(['GRPC_CLIENT_CA_FILE', 'TLS_KEY_FILE']);
  });

  it('refuses plaintext on a non-loopback HOST unless explicitly allowed', () => {
    for (const HOST of ['0.0.0.0', '::', '10.0.0.5', 'auth.internal']) {
      expect(problems({ ...SECRETS, HOST }).map((s) => s.split(':')[0])).toEqual(['HOST']);
    }
    expect(problems({ ...SECRETS, HOST: '0.0.0.0', ALLOW_PLAINTEXT_NON_LOOPBACK: 'true' })).toEqual(
      [],
    );
    expect(
      problems({
        ...SECRETS,
        HOST: '0.0.0.0',
        TLS_CERT_FILE: '/a',
        TLS_KEY_FILE: '/b',
        GRPC_CLIENT_CA_FILE: '/c',
      }),
    ).toEqual([]);
  });
});
