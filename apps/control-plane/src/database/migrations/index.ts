import { ControlPlane1765000000000 } from './1765000000000-control-plane';

/** Every migration, in order (classes, so they run the same from src and dist). */
export const MIGRATIONS = [ControlPlane1765000000000];
