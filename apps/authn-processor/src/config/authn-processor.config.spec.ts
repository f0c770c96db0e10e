import { ConfigError } from '@edge/service-config';
import { describe, expect, it } from 'vitest';
import { loadAuthnProcessorConfig } from './authn-processor.config';

describe('authn-processor config', () => {
  it('has defaults that match the local stack and apps/auth', () => {
    expect(loadAuthnProcessorConfig({})).toMatchObject({
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: 9001,
      AUTH_GRPC_URL: '127.0.0.1:7001',
      AUTH_JWKS_URL: 'http://127.0.0.1:7000/.well-known/jwks.json',
      JWT_ISSUER: 'edge-auth',
      JWT_AUDIENCE: 'edge',
      JWT_ALGORITHMS: ['ES256', 'RS256', 'EdDSA'],
      AUTH_VERIFY_TIMEOUT_MS: 300,
      KEY_CACHE_MAX_ENTRIES: 10_000,
      KEY_CACHE_TTL_SECONDS: 60,
      UNKNOWN_KEY_CACHE_TTL_MS: 2_000,
      JWT_CACHE_MAX_ENTRIES: 10_000,
      JWT_CACHE_TTL_SECONDS: 60,
      MAX_AUTHORIZATION_BYTES: 4096,
    });
  });

  it('refuses symmetric and none algorithms and reports every bad variable', () => {
    try {
      loadAuthnProcessorConfig({
        JWT_ALGORITHMS: 'HS256,none',
        GRPC_PORT: 'x',
        KEY_CACHE_TTL_SECONDS: '0',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const keys = (e as ConfigError).problems.map((p) => p.split(/[.:]/)[0]);
      expect(new Set(keys)).toEqual(
        new Set(['JWT_ALGORITHMS', 'GRPC_PORT', 'KEY_CACHE_TTL_SECONDS']),
      );
    }
  });

  it('JWT_CACHE_MAX_ENTRIES=0 disables the verified-token cache; its TTL must be positive', () => {
    expect(loadAuthnProcessorConfig({ JWT_CACHE_MAX_ENTRIES: '0' }).JWT_CACHE_MAX_ENTRIES).toBe(0);
    expect(() => loadAuthnProcessorConfig({ JWT_CACHE_TTL_SECONDS: '0' })).toThrow(ConfigError);
    expect(() => loadAuthnProcessorConfig({ JWT_CACHE_MAX_ENTRIES: '-1' })).toThrow(ConfigError);
  });
});

describe('authn-processor config: TLS towards the auth service', () => {
  const problemKeys = (source: Record<string, string>): string[] => {
    try {
      loadAuthnProcessorConfig(source);
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems.map((p) => p.split(':')[0] ?? p).sort();
    }
  };
  const tls = {
    AUTH_TLS_CA_FILE: '/pki/ca.crt',
    AUTH_TLS_CERT_FILE: '/pki/client.crt',
    AUTH_TLS_KEY_FILE: '/pki/client.key',
  };

  it('is plaintext by default', () => {
    expect(loadAuthnProcessorConfig({}).AUTH_TLS_CA_FILE).toBeUndefined();
  });

  it('accepts all three files with an https JWKS URL', () => {
    expect(
      problemKeys({ ...tls, AUTH_JWKS_URL: 'https://127.0.0.1:7000/.well-known/jwks.json' }),
    ).toEqual([]);
  });

  it('needs all three files or none, and an https JWKS URL with them', () => {
    expect(problemKeys({ AUTH_TLS_CA_FILE: tls.AUTH_TLS_CA_FILE })).toEqual([
      'AUTH_JWKS_URL',
      'AUTH_TLS_CERT_FILE',
      'AUTH_TLS_KEY_FILE',
    ]);
    expect(problemKeys(tls)).toEqual(['AUTH_JWKS_URL']);
  });
});
