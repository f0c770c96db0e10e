import { Injectable } from '@nestjs/common';

/** Time and timers behind an injectable class so token renewal is unit-testable. */
@Injectable()
export class Clock {
  /** Milliseconds since the epoch. */
  now(): number {
    return Date.now();
  }

  /** Runs `fn` after `ms`; returns a cancel function. The timer never keeps the process alive. */
  schedule(ms: number, fn: () => void): () => void {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  }
}
