/**
 * The `p` quantile (0..1) of ascending-sorted values, nearest-rank style: the element at
 * floor(p·n), the last one for p = 1. Undefined for no values.
 */
export function quantile(sorted: readonly number[], p: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** The element with the median value of `key` (the lower middle for an even count). */
export function medianBy<T>(xs: readonly T[], key: (x: T) => number): T {
  return [...xs].sort((a, b) => key(a) - key(b))[Math.floor((xs.length - 1) / 2)]!;
}
