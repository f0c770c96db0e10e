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
  /**
   * Milliseconds since the epoch with sub-millisecond resolution (Date.now() has whole ms): the
   * monotonic clock plus the process's time origin, re-anchored to the wall clock when the two
   * drift apart by more than 2 ms (checked at most once a second). For durations measured
   * against a wall-clock start time another process took (Envoy's `request.time`).
   */
  preciseNow(): number {
    const mono = performance.now();
    if (mono - anchor.checkedAt >= 1_000) {
      anchor.checkedAt = mono;
      const wall = Date.now();
      if (Math.abs(wall - (anchor.origin + mono)) > 2) anchor.origin = wall - mono;
    }
    return anchor.origin + mono;
  }
}

/** One anchor per process (every Clock reads the same two clocks). */
const anchor = { origin: performance.timeOrigin, checkedAt: -Infinity };
