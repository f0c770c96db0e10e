// The DataSource for the typeorm CLI (from the built output): pnpm --filter @edge/control-plane typeorm migration:show
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadControlPlaneConfig } from '../config/control-plane.config';
import { typeOrmOptions } from './typeorm-options';

export default new DataSource({
  ...typeOrmOptions(loadControlPlaneConfig()),
  migrationsRun: false,
});
