// Unit-test clock (not built into dist).
import { Clock } from '../common/clock';

/** A clock the tests move by hand. */
export class ManualClock extends Clock {
  constructor(private current = 1_700_000_000_000) {
    super();
  }
  override now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
