import { beforeEach, describe, expect, it, vi } from 'vitest';
import { initializeWithMigrationLock } from './migration-lock';

const state = vi.hoisted(() => ({
  calls: [] as string[],
  initialize: (): Promise<unknown> => Promise.resolve(undefined),
}));
const calls = state.calls;

vi.mock('pg', () => ({
  Client: class {
    constructor(readonly opts: { connectionString?: string }) {
      state.calls.push(`connect-to ${opts.connectionString ?? ''}`);
    }
    on(): void {}
    connect(): Promise<void> {
      state.calls.push('connect');
      return Promise.resolve();
    }
    query(sql: string, params: unknown[]): Promise<void> {
      state.calls.push(`${sql} ${String(params[0])}`);
      return Promise.resolve();
    }
    end(): Promise<void> {
      state.calls.push('end');
      return Promise.resolve();
    }
  },
}));

vi.mock('typeorm', () => ({
  DataSource: class {
    initialize(): Promise<unknown> {
      state.calls.push('initialize');
      return state.initialize();
    }
  },
}));

describe('initializeWithMigrationLock', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it('migrates while holding the given advisory lock, then releases it', async () => {
    const ds = { ready: true };
    state.initialize = () => Promise.resolve(ds);
    const out = await initializeWithMigrationLock(
      { type: 'postgres', url: 'postgres://db/x' },
      7_300_002,
    );
    expect(out).toBe(ds);
    expect(calls).toEqual([
      'connect-to postgres://db/x',
      'connect',
      'SELECT pg_advisory_lock($1) 7300002',
      'initialize',
      'SELECT pg_advisory_unlock($1) 7300002',
      'end',
    ]);
  });

  it('releases the lock and closes its connection when migrating fails', async () => {
    state.initialize = () => Promise.reject(new Error('migration failed'));
    await expect(
      initializeWithMigrationLock({ type: 'postgres', url: 'postgres://db/x' }, 42),
    ).rejects.toThrow('migration failed');
    expect(calls.slice(-3)).toEqual(['initialize', 'SELECT pg_advisory_unlock($1) 42', 'end']);
  });
});
