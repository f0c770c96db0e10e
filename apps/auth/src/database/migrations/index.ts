import { InitialSchema1763700000000 } from './1763700000000-initial-schema';
import { KeyEvents1763800000000 } from './1763800000000-key-events';
import { KeyOwnership1763900000000 } from './1763900000000-key-ownership';

/** Every migration, in order. Listed as classes so they run the same from src (tests) and dist. */
export const MIGRATIONS = [
  InitialSchema1763700000000,
  KeyEvents1763800000000,
  KeyOwnership1763900000000,
];
