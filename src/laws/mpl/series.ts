/**
 * Series coefficients of the fast evaluator's far-field expansion (./evaluate.ts): binomials, rising
 * factorials and the order that meets the truncation bound.
 */

/** Highest series order built. */
export const MAX_ORDER = 80;

const BINOMIAL: Float64Array[] = (() => {
  const rows: Float64Array[] = [];
  for (let n = 0; n <= MAX_ORDER; n++) {
    const row = new Float64Array(n + 1);
    row[0] = 1;
    row[n] = 1;
    for (let j = 1; j < n; j++) row[j] = rows[n - 1]![j - 1]! + rows[n - 1]![j]!;
    rows.push(row);
  }
  return rows;
})();

/** BINOMIAL flattened: row n starts at n (n + 1) / 2. */
export const BINOMIAL_FLAT: Float64Array = (() => {
  const out = new Float64Array(((MAX_ORDER + 1) * (MAX_ORDER + 2)) / 2);
  for (let n = 0; n <= MAX_ORDER; n++) out.set(BINOMIAL[n]!, (n * (n + 1)) / 2);
  return out;
})();

/** (b)_n / n! for n < count (coefficients of (1 - t)^(-b)), into `out`. */
export function fillRising(out: Float64Array, b: number, count: number): void {
  let c = 1;
  for (let n = 0; n < count; n++) {
    out[n] = c;
    c *= (b + n) / (n + 1);
  }
}

/**
 * Smallest order p whose truncated series sum_{n<p} (b)_n/n! t^n of (1-t)^(-b), |t| <= theta, errs by
 * at most `tolerance` relative to the term, for b = beta and b = beta + 1 (the Jacobian's kernel),
 * including the log factor of the beta derivative.
 */
export function seriesOrder(beta: number, theta: number, tolerance: number): number {
  const b = beta + 1;
  let c = 1; // (b)_n / n!
  let h = 0; // H_n = sum_{j<n} 1/(beta+j)
  let thetaPow = 1;
  for (let p = 1; p < MAX_ORDER; p++) {
    c *= (b + p - 1) / p;
    h += 1 / (beta + p - 1);
    thetaPow *= theta;
    const ratio = theta * Math.max(1, (b + p) / (p + 1));
    if (ratio >= 1) continue;
    const tail = (c * thetaPow * (1 + h)) / (1 - ratio);
    if (tail * (1 + theta) ** b <= tolerance) return p;
  }
  return MAX_ORDER;
}
