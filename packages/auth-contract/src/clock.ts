/**
 * The one source of "now" for time-dependent logic (expiry, caches, token lifetimes), so it is
 * unit-testable. An abstract class so Nest can use it as an injection token:
 * `{ provide: Clock, useClass: SystemClock }`; tests subclass it.
 */
export abstract class Clock {
  abstract now(): Date;
  /** Milliseconds since the epoch (hot paths: no Date allocated by SystemClock). */
  nowMs(): number {
    return this.now().getTime();
  }
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
  override nowMs(): number {
    return Date.now();
  }
}

/** A clock that tests move by hand (epoch ms). */
export class ManualClock extends Clock {
  constructor(private current = 1_700_000_000_000) {
    super();
  }
  now(): Date {
    return new Date(this.current);
  }
  override nowMs(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
