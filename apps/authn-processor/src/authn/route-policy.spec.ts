import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, parseRoutePolicy, RoutePolicyError } from './route-policy';

describe('parseRoutePolicy', () => {
  it('no namespace or empty -> authentication required, no scopes', () => {
    expect(parseRoutePolicy(undefined)).toBe(DEFAULT_POLICY);
    expect(parseRoutePolicy({})).toBe(DEFAULT_POLICY);
    expect(parseRoutePolicy({ required_scopes: [] })).toBe(DEFAULT_POLICY);
  });

  it('reads required scopes and public', () => {
    expect(parseRoutePolicy({ required_scopes: ['echo:read', 'keys:*'] })).toEqual({
      requiredScopes: [
        { resource: 'echo', action: 'read' },
        { resource: 'keys', action: '*' },
      ],
      public: false,
    });
    expect(parseRoutePolicy({ public: true })).toEqual({ requiredScopes: [], public: true });
  });

  it('refuses malformed metadata (fail closed)', () => {
    for (const bad of [
      { required_scopes: 'echo:read' },
      { required_scopes: ['echo'] },
      { required_scopes: ['Echo:Read'] },
      { required_scopes: [1] },
      { required_scopes: ['echo:read', ''] },
      { required_scopes: ['echo:read:x'] },
      { public: 'yes' },
    ]) {
      expect(() => parseRoutePolicy(bad)).toThrow(RoutePolicyError);
    }
  });

  it('parses each metadata object once', () => {
    const ns = { required_scopes: ['echo:read'] };
    expect(parseRoutePolicy(ns)).toBe(parseRoutePolicy(ns));
  });
});
