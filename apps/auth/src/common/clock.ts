import { Injectable } from '@nestjs/common';

/** The one source of "now", injectable so time-dependent logic is unit-testable. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
