import { type DataSourceOptions } from 'typeorm';
import { type ControlPlaneEnv } from '../config/control-plane.config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** pg_advisory_lock key serialising this app's start-up migrations across its replicas. */
export const MIGRATION_LOCK = 7_400_018;

/** The one set of TypeORM options (app and CLI). Schema changes go through migrations only. */
export function typeOrmOptions(config: Pick<ControlPlaneEnv, 'DATABASE_URL'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'control_plane_migrations',
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'migration'],
    extra: { max: 10, connectionTimeoutMillis: 5_000 },
  };
}
