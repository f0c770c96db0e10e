import { ConfigError } from '@edge/service-config';
import { describe, expect, it } from 'vitest';
import { loadIdempotencyProcessorConfig } from './idempotency-processor.config';

describe('idempotency-processor config', () => {
  it('has defaults that match the local stack', () => {
    expect(loadIdempotencyProcessorConfig({})).toMatchObject({
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: 9002,
      METRICS_PORT: 9102,
      REDIS_URL: 'redis://127.0.0.1:56379',
      REDIS_COMMAND_TIMEOUT_MS: 250,
      IDEMPOTENCY_RETENTION_SECONDS: 86_400,
      IDEMPOTENCY_MAX_RESPONSE_BYTES: 262_144,
      IDEMPOTENCY_TEST_STORE_DELAY_MS: 0,
    });
  });

  it('reports every bad variable, never their values', () => {
    try {
      loadIdempotencyProcessorConfig({
        REDIS_URL: 'http://secret@host',
        REDIS_COMMAND_TIMEOUT_MS: '5000',
        IDEMPOTENCY_MAX_RESPONSE_BYTES: String(2 * 1024 * 1024),
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as ConfigError).message;
      expect(msg).toMatch(/REDIS_URL/);
      expect(msg).toMatch(/REDIS_COMMAND_TIMEOUT_MS/);
      expect(msg).toMatch(/IDEMPOTENCY_MAX_RESPONSE_BYTES/);
      expect(msg).not.toMatch(/secret/);
    }
  });

  it('refuses the store-delay test hook in production', () => {
    expect(() =>
      loadIdempotencyProcessorConfig({
        NODE_ENV: 'production',
        IDEMPOTENCY_TEST_STORE_DELAY_MS: '100',
      }),
    ).toThrow(/test hook/);
    expect(
      loadIdempotencyProcessorConfig({ NODE_ENV: 'test', IDEMPOTENCY_TEST_STORE_DELAY_MS: '100' })
        .IDEMPOTENCY_TEST_STORE_DELAY_MS,
    ).toBe(100);
  });
});
