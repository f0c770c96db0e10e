// Unit-test clock: the contract's (kept at this path for the specs' imports).
export { ManualClock } from '@edge/auth-contract';
