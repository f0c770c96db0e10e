import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';

// pg_advisory_lock key serialising start-up migrations across replicas.
export const MIGRATION_LOCK = 7_400_018;

/**
 * Initializes the DataSource (which runs pending migrations, `migrationsRun: true`) while
 * holding a Postgres advisory lock on a separate connection, so several control-plane replicas booting at
 * once against a fresh database do not run the same migration concurrently: the first one
 * migrates, the others wait and then find nothing to do.
 */
export async function initializeWithMigrationLock(
  options: DataSourceOptions & { url?: string },
): Promise<DataSource> {
  const lock = new Client({ connectionString: options.url });
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await new DataSource(options).initialize();
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}
