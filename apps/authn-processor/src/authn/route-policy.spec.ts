import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, missingScopes, parseRoutePolicy, RoutePolicyError } from './route-policy';

describe('parseRoutePolicy', () => {
  it('no namespace or empty -> authentication required, no scopes', () => {
    expect(parseRoutePolicy(undefined)).toBe(DEFAULT_POLICY);
    expect(parseRoutePolicy({})).toBe(DEFAULT_POLICY);
    expect(parseRoutePolicy({ required_scopes: [] })).toBe(DEFAULT_POLICY);
  });

  it('reads required scopes and public', () => {
    expect(parseRoutePolicy({ required_scopes: ['echo:read', 'keys:*'] })).toEqual({
      requiredScopes: ['echo:read', 'keys:*'],
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
      { public: 'yes' },
    ]) {
      expect(() => parseRoutePolicy(bad)).toThrow(RoutePolicyError);
    }
  });
});

describe('missingScopes', () => {
  it('exact and wildcard grants', () => {
    expect(missingScopes(['echo:read'], ['echo:read'])).toEqual([]);
    expect(missingScopes(['echo:read'], ['echo:*'])).toEqual([]);
    expect(missingScopes(['echo:read'], ['*:read'])).toEqual([]);
    expect(missingScopes(['echo:read'], ['*:*'])).toEqual([]);
    expect(missingScopes(['echo:read', 'echo:write'], ['echo:read', 'keys:write'])).toEqual([
      'echo:write',
    ]);
    expect(missingScopes(['echo:read'], [])).toEqual(['echo:read']);
    expect(missingScopes(['echo:read'], ['echox:read', 'echo:reader'])).toEqual(['echo:read']);
  });
});
