import { AccessRecords1764500000000 } from './1764500000000-access-records';

/** Every migration, in order (classes, so they run the same from src and dist). */
export const MIGRATIONS = [AccessRecords1764500000000];
