// The DataSource for the typeorm CLI (from the built output): pnpm --filter @edge/consumer typeorm migration:show
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConsumerConfig } from '../config/consumer.config';
import { typeOrmOptions } from './typeorm-options';

export default new DataSource({ ...typeOrmOptions(loadConsumerConfig()), migrationsRun: false });
