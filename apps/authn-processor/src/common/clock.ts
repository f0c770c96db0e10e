import { Injectable } from '@nestjs/common';

/** Wall clock behind an injectable class so cache TTLs and token expiry are unit-testable. */
@Injectable()
export class Clock {
  /** Milliseconds since the epoch. */
  now(): number {
    return Date.now();
  }
}
