import { type DataSourceOptions } from 'typeorm';
import { type ConsumerConfig } from '../config/consumer.config';
import { AccessRecordEntity } from './access-record.entity';
import { MIGRATIONS } from './migrations';

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
