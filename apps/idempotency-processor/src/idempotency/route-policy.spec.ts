import { describe, expect, it } from 'vitest';
import { routePolicyParser, RoutePolicyError } from './route-policy';

const parse = routePolicyParser({ retentionSeconds: 86_400, maxResponseBytes: 1000 });

describe('route policy (edge.idempotency route metadata)', () => {
  it('defaults: POST and PATCH, key optional, 24 h, 5xx stored, pass-through when Redis is down', () => {
    const p = parse(undefined);
    expect([...p.methods]).toEqual(['POST', 'PATCH']);
    expect(p).toMatchObject({
      required: false,
      retentionSeconds: 86_400,
      storeServerErrors: true,
      maxResponseBytes: 1000,
      onStoreUnavailable: 'pass-through',
    });
  });

  it('a route that requires the key fails closed by default', () => {
    expect(parse({ required: true }).onStoreUnavailable).toBe('fail-closed');
    expect(parse({ required: true, on_store_unavailable: 'pass-through' }).onStoreUnavailable).toBe(
      'pass-through',
    );
  });

  it('reads every setting', () => {
    const p = parse({
      methods: ['POST', 'PUT', 'DELETE'],
      retention_seconds: 60,
      store_server_errors: false,
      max_response_bytes: 10,
    });
    expect([...p.methods]).toEqual(['POST', 'PUT', 'DELETE']);
    expect(p).toMatchObject({
      retentionSeconds: 60,
      storeServerErrors: false,
      maxResponseBytes: 10,
    });
    expect(parse({ methods: [] }).methods.size).toBe(0);
  });

  it('parses each metadata object once', () => {
    const ns = { required: true };
    expect(parse(ns)).toBe(parse(ns));
  });

  it('refuses malformed metadata (the route fails closed)', () => {
    for (const bad of [
      { methods: 'POST' },
      { methods: ['post'] },
      { required: 'yes' },
      { retention_seconds: -1 },
      { retention_seconds: 0 },
      { retention_seconds: 1.5 },
      { max_response_bytes: 1001 },
      { on_store_unavailable: 'maybe' },
      { requierd: true },
    ]) {
      expect(() => parse(bad)).toThrow(RoutePolicyError);
    }
  });
});
