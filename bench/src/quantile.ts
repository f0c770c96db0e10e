/**
 * The `p` quantile (0..1) of ascending-sorted values, nearest-rank style: the element at
 * floor(p·n), the last one for p = 1. Undefined for no values.
 */
export function quantile(sorted: readonly number[], p: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
