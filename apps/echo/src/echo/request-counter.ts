import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';

/** Paths remembered at once; the least recently seen are forgotten first. */
export const COUNTED_PATHS = 10_000;

/**
 * How many requests the echo answered per path (query string included), so a test can check
 * what reached the upstream ("the upstream saw it once"). Bounded: at most COUNTED_PATHS paths.
 */
@Injectable()
export class RequestCounter {
  private readonly counts = new LRUCache<string, number>({ max: COUNTED_PATHS });

  record(path: string): void {
    this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
  }

  count(path: string): number {
    return this.counts.get(path) ?? 0;
  }
}
