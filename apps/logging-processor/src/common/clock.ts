import { Injectable } from '@nestjs/common';

/** Wall and monotonic clocks behind an injectable class (unit tests use a manual one). */
@Injectable()
export class Clock {
  /** Milliseconds since the epoch. */
  now(): number {
    return Date.now();
  }
  /** Monotonic milliseconds (durations). */
  monotonic(): number {
    return performance.now();
  }
}
