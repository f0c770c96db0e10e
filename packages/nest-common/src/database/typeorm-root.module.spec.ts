import { type TypeOrmModuleAsyncOptions } from '@nestjs/typeorm';
import { type DataSourceOptions } from 'typeorm';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { typeOrmRootModule } from './typeorm-root.module';

const state = vi.hoisted(() => ({
  async: undefined as TypeOrmModuleAsyncOptions | undefined,
  locked: [] as [unknown, number][],
}));

vi.mock('@nestjs/typeorm', () => ({
  TypeOrmModule: {
    forRootAsync: (o: TypeOrmModuleAsyncOptions) => {
      state.async = o;
      return { module: class {} };
    },
  },
}));

vi.mock('./migration-lock', () => ({
  initializeWithMigrationLock: (options: unknown, lockId: number) => {
    state.locked.push([options, lockId]);
    return Promise.resolve('data source');
  },
}));

const options: DataSourceOptions = { type: 'postgres', migrationsRun: true };

async function factoryOptions() {
  const factory = state.async?.useFactory as () => Promise<Record<string, unknown>>;
  return factory();
}

describe('typeOrmRootModule', () => {
  beforeEach(() => {
    state.async = undefined;
    state.locked.length = 0;
  });

  it('retries the connection as configured (0 = forever)', async () => {
    typeOrmRootModule({
      options,
      migrationLockId: 7,
      connectMaxAttempts: 0,
      connectRetryDelayMs: 250,
    });
    expect(await factoryOptions()).toEqual({
      ...options,
      retryAttempts: Number.POSITIVE_INFINITY,
      retryDelay: 250,
    });
    typeOrmRootModule({
      options,
      migrationLockId: 7,
      connectMaxAttempts: 5,
      connectRetryDelayMs: 1,
    });
    expect(await factoryOptions()).toMatchObject({ retryAttempts: 5, retryDelay: 1 });
  });

  it("initializes the data source under the app's migration lock", async () => {
    typeOrmRootModule({
      options,
      migrationLockId: 7_300_002,
      connectMaxAttempts: 1,
      connectRetryDelayMs: 1,
    });
    const create = state.async?.dataSourceFactory;
    await expect(create?.(options)).resolves.toBe('data source');
    expect(state.locked).toEqual([[options, 7_300_002]]);
    expect(() => create?.(undefined)).toThrow('TypeORM options missing');
  });
});
