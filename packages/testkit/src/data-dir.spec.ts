import { describe, expect, it } from 'vitest';
import { dataDirPath, ownerPid } from './data-dir';

describe('dataDirPath', () => {
  it('gives temporary instances <name>-<pid>-<random>', () => {
    expect(dataDirPath('/r/.local', 'postgres', false, 42, 'deadbeef')).toBe(
      '/r/.local/postgres-42-deadbeef',
    );
  });

  it('gives persistent instances a stable dev/<name>', () => {
    expect(dataDirPath('/r/.local', 'dev-postgres', true)).toBe('/r/.local/dev/dev-postgres');
  });

  it('rejects names that could escape the folder', () => {
    expect(() => dataDirPath('/r/.local', '../etc', true)).toThrow(/invalid instance name/);
    expect(() => dataDirPath('/r/.local', 'a/b', false)).toThrow(/invalid instance name/);
  });

  it('makes a different dir per call', () => {
    expect(dataDirPath('/l', 'redis', false)).not.toBe(dataDirPath('/l', 'redis', false));
  });
});

describe('ownerPid', () => {
  it('reads the pid of a temporary dir and ignores everything else', () => {
    expect(ownerPid('kafka-1234-0a1b2c3d')).toBe(1234);
    expect(ownerPid('dev-postgres-12-0a1b2c3d')).toBe(12);
    expect(ownerPid('dev')).toBeUndefined();
    expect(ownerPid('notes-1234-xyz')).toBeUndefined();
  });
});
