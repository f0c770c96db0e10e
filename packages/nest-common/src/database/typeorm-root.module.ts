import { type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type DataSourceOptions } from 'typeorm';
import { initializeWithMigrationLock } from './migration-lock';

export interface TypeOrmRootOptions {
  /** The app's TypeORM options (`migrationsRun: true` runs its migrations at start-up). */
  options: DataSourceOptions;
  /** The app's own pg_advisory_lock key serialising those migrations across replicas. */
  migrationLockId: number;
  /** Connection attempts at start-up before giving up; 0 = forever (wait for Postgres). */
  connectMaxAttempts: number;
  /** Pause between those attempts. */
  connectRetryDelayMs: number;
}

/**
 * The app's root TypeORM module: waits for Postgres at start-up instead of crash-looping, and
 * initializes the DataSource (running pending migrations) under the app's migration lock.
 */
export function typeOrmRootModule(root: TypeOrmRootOptions): DynamicModule {
  return TypeOrmModule.forRootAsync({
    useFactory: () => ({
      ...root.options,
      retryAttempts:
        root.connectMaxAttempts === 0 ? Number.POSITIVE_INFINITY : root.connectMaxAttempts,
      retryDelay: root.connectRetryDelayMs,
    }),
    dataSourceFactory: (options) => {
      if (!options) throw new Error('TypeORM options missing');
      return initializeWithMigrationLock(options, root.migrationLockId);
    },
  });
}
