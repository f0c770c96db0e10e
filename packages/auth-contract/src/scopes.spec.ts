import { describe, expect, it } from 'vitest';
import {
  covers,
  formatScopes,
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

  it('keys:* covers every action on keys, nothing else; a required * needs a granted *', () => {
    expect(covers(s('keys', '*'), s('keys', 'read'))).toBe(true);
    expect(covers(s('keys', '*'), s('keys', '*'))).toBe(true);
    expect(covers(s('keys', '*'), s('echo', 'read'))).toBe(false);
    expect(covers(s('keys', '*'), s('keysx', 'read'))).toBe(false);
    expect(covers(s('keys', 'read'), s('keys', '*'))).toBe(false);
    expect(covers(s('*', '*'), s('anything', 'at-all'))).toBe(true);
    expect(covers(s('*', '*'), s('*', '*'))).toBe(true);
  });

  it('is case-sensitive and never folds case (upper case is not a scope)', () => {
    expect(covers(s('keys', 'read'), s('KEYS', 'read'))).toBe(false);
    expect(covers(s('KEYS', 'READ'), s('KEYS', 'READ'))).toBe(false);
    expect(covers(s('*', '*'), s('Admin', 'read'))).toBe(false);
    expect(scopeFromString('Admin:read')).toBeUndefined();
  });

  it('fails closed on empty or malformed scopes on either side', () => {
    expect(covers(s('', ''), s('', ''))).toBe(false);
    expect(covers(s('*', '*'), s('', 'read'))).toBe(false);
    expect(covers(s('', 'read'), s('', 'read'))).toBe(false);
    expect(covers(s('keys:read', '*'), s('keys:read', 'x'))).toBe(false);
    expect(covers(s('keys ', 'read'), s('keys ', 'read'))).toBe(false);
    expect(covers(s('a'.repeat(64), 'read'), s('a'.repeat(64), 'read'))).toBe(false);
    expect(missingScopes([s('', '')], [s('*', '*')])).toEqual([s('', '')]);
  });

  it('nothing required: nothing missing, even with nothing granted', () => {
    expect(missingScopes([], [])).toEqual([]);
    expect(isSubset([], [])).toBe(true);
    expect(missingScopes([s('echo', 'read')], [])).toEqual([s('echo', 'read')]);
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
    expect(scopeFromString('')).toBeUndefined();
    expect(scopeFromString(':')).toBeUndefined();
    expect(scopeFromString('keys:')).toBeUndefined();
    expect(scopeFromString('*:*')).toEqual(s('*', '*'));
    expect(formatScopes([s('keys', 'read'), s('echo', '*')])).toBe('keys:read,echo:*');
    expect(formatScopes([])).toBe('');
  });
});
