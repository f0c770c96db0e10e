import { type DataSourceOptions } from 'typeorm';
import { type AuthConfig } from '../config/config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** pg_advisory_lock key serialising this app's start-up migrations across its replicas. */
export const MIGRATION_LOCK = 7_300_002;

/**
 * The one set of TypeORM options, shared by the app and the CLI data source. Schema changes go
 * through migrations only (`synchronize` is always false); the app runs them at start-up.
 */
export function typeOrmOptions(config: Pick<AuthConfig, 'DATABASE_URL'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'migration'],
    extra: { max: 10, connectionTimeoutMillis: 5_000 },
  };
}
