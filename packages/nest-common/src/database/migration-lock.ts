import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';

/**
 * Initializes the DataSource (which runs pending migrations, `migrationsRun: true`) while
 * holding the Postgres advisory lock `lockId` on a separate connection, so several replicas
 * booting at once against a fresh database do not run the same migration concurrently: the
 * first one migrates, the others wait and then find nothing to do. Each app passes its own
 * lock id, so apps sharing one database do not wait for each other.
 */
export async function initializeWithMigrationLock(
  options: DataSourceOptions & { url?: string },
  lockId: number,
): Promise<DataSource> {
  const lock = new Client({ connectionString: options.url });
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [lockId]);
    return await new DataSource(options).initialize();
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [lockId]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}
