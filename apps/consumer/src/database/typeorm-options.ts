import { type DataSourceOptions } from 'typeorm';
import { type ConsumerConfig } from '../config/consumer.config';
import { AccessRecordEntity } from './access-record.entity';
import { MIGRATIONS } from './migrations';

/** pg_advisory_lock key serialising this app's start-up migrations across its replicas. */
export const MIGRATION_LOCK = 7_300_007;

/** The one set of TypeORM options (app and CLI). Schema changes go through migrations only. */
export function typeOrmOptions(config: Pick<ConsumerConfig, 'DATABASE_URL'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: [AccessRecordEntity],
    migrations: MIGRATIONS,
    migrationsTableName: 'consumer_migrations',
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'migration'],
    extra: { max: 10, connectionTimeoutMillis: 5_000 },
  };
}
