/** Projections onto the schedule constraints (Euclidean, in place, on one row of a batch). */

/**
 * Non-increasing isotonic regression of `x[off .. off+n)` (pool adjacent violators), then clipping
 * to [lo, hi]: together the Euclidean projection onto {non-increasing, lo <= x <= hi}.
 */
export function projectMonotone(x: Float64Array, off: number, n: number, lo: number, hi: number): void {
  const val = new Float64Array(n);
  const wt = new Float64Array(n);
  const len = new Int32Array(n);
  let b = 0;
  for (let i = 0; i < n; i++) {
    val[b] = x[off + i]!;
    wt[b] = 1;
    len[b] = 1;
    b++;
    while (b > 1 && val[b - 2]! < val[b - 1]!) {
      const w = wt[b - 2]! + wt[b - 1]!;
      val[b - 2] = (val[b - 2]! * wt[b - 2]! + val[b - 1]! * wt[b - 1]!) / w;
      wt[b - 2] = w;
      len[b - 2] = len[b - 2]! + len[b - 1]!;
      b--;
    }
  }
  let i = off;
  for (let k = 0; k < b; k++) {
    const v = Math.min(hi, Math.max(lo, val[k]!));
    for (let t = 0; t < len[k]!; t++) x[i++] = v;
  }
}

/** Clip `x[off .. off+n)` to [lo, hi]. */
export function projectBox(x: Float64Array, off: number, n: number, lo: number, hi: number): void {
  for (let i = off; i < off + n; i++) x[i] = Math.min(hi, Math.max(lo, x[i]!));
}
