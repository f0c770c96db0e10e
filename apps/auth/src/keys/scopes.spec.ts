import { describe, expect, it } from 'vitest';
import {
  covers,
  isSubset,
  isValidScope,
  missingScopes,
  normalizeScopes,
  ROOT_SCOPES,
  scopeFromString,
  scopeToString,
} from './scopes';

const s = (resource: string, action: string) => ({ resource, action });

describe('scopes', () => {
  it('covers exact matches and wildcards only', () => {
    expect(covers(s('keys', 'read'), s('keys', 'read'))).toBe(true);
    expect(covers(s('keys', 'read'), s('keys', 'write'))).toBe(false);
    expect(covers(s('keys', '*'), s('keys', 'write'))).toBe(true);
    expect(covers(s('*', 'read'), s('echo', 'read'))).toBe(true);
    expect(covers(s('*', 'read'), s('echo', 'write'))).toBe(false);
    expect(covers(s('keys', 'read'), s('*', 'read'))).toBe(false);
  });

  it('checks subsets', () => {
    expect(isSubset([], ROOT_SCOPES)).toBe(true);
    expect(isSubset([s('keys', 'read')], ROOT_SCOPES)).toBe(true);
    expect(isSubset([...ROOT_SCOPES], ROOT_SCOPES)).toBe(true);
    expect(isSubset([s('keys', 'admin')], ROOT_SCOPES)).toBe(false);
    expect(isSubset([s('keys', 'read'), s('echo', 'read')], [s('keys', 'read')])).toBe(false);
    expect(missingScopes([s('keys', 'read'), s('echo', 'read')], [s('keys', 'read')])).toEqual([
      s('echo', 'read'),
    ]);
  });

  it('validates the characters of each part', () => {
    expect(isValidScope(s('keys', 'read'))).toBe(true);
    expect(isValidScope(s('echo.v1', 'read-all'))).toBe(true);
    expect(isValidScope(s('keys:x', 'read'))).toBe(false);
    expect(isValidScope(s('', 'read'))).toBe(false);
    expect(isValidScope(s('Keys', 'read'))).toBe(false);
  });

  it('normalizes: dedupes, sorts, strips extra fields', () => {
    const extra = { resource: 'keys', action: 'write', evil: 1 } as unknown as ReturnType<typeof s>;
    expect(normalizeScopes([extra, s('keys', 'read'), s('keys', 'write')])).toEqual([
      s('keys', 'read'),
      s('keys', 'write'),
    ]);
  });

  it('round-trips the string form', () => {
    expect(scopeToString(s('keys', 'read'))).toBe('keys:read');
    expect(scopeFromString('keys:read')).toEqual(s('keys', 'read'));
    expect(scopeFromString('keys')).toBeUndefined();
    expect(scopeFromString('a:b:c')).toBeUndefined();
  });
});
