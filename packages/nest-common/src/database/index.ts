export { initializeWithMigrationLock } from './migration-lock';
export { typeOrmRootModule, type TypeOrmRootOptions } from './typeorm-root.module';
