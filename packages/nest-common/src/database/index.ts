export { initializeWithMigrationLock } from './migration-lock';
