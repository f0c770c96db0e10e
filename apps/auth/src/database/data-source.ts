// The DataSource for the typeorm CLI (run from the built output):
//   pnpm --filter @edge/auth build && pnpm --filter @edge/auth typeorm migration:show
// It reads the same validated configuration as the app (DATABASE_URL at least).
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadAuthConfig } from '../config/config';
import { typeOrmOptions } from './typeorm-options';

export default new DataSource({ ...typeOrmOptions(loadAuthConfig()), migrationsRun: false });
