/**
 * The multi-power law's plain direct sum (the reference for tests and the `direct` option), the
 * inclusive lr prefix sums S(s), and the argument checks shared with the fast evaluator. The formula
 * and its conventions are in ./law.ts.
 */

/** Number of params of the multi-power law: [L0, A, alpha, B, C, beta, gamma]. */
export const P = 7;

export function checkParams(params: ArrayLike<number>): void {
  if (params.length !== P) throw new RangeError(`mpl takes ${P} params [L0, A, alpha, B, C, beta, gamma], got ${params.length}`);
}

export function checkStep(step: number, total: number): void {
  if (!Number.isInteger(step) || step < 0 || step >= total) {
    throw new RangeError(`step ${step} is outside the schedule (0..${total - 1})`);
  }
}

/** Inclusive prefix sums S(s) = sum_{i<=s} lr[i]. */
export function cumulativeLr(lrs: Float64Array): Float64Array {
  const cum = new Float64Array(lrs.length);
  let total = 0;
  for (let i = 0; i < lrs.length; i++) {
    total += lrs[i]!;
    cum[i] = total;
  }
  return cum;
}

/**
 * The plain O(points * steps) evaluation, term by term as the formula reads. With `jacobian`,
 * also the analytic derivatives (row-major, 7 per point).
 */
export function predictMplDirect(
  lrs: Float64Array,
  steps: ArrayLike<number>,
  params: ArrayLike<number>,
  jacobian?: Float64Array,
): Float64Array {
  checkParams(params);
  const [L0, A, alpha, B, C, beta, gamma] = Array.from(params) as [number, number, number, number, number, number, number];
  const cum = cumulativeLr(lrs);
  const pred = new Float64Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    checkStep(s, lrs.length);
    const X = cum[s]!;
    let drop = 0;
    let dC = 0;
    let dBeta = 0;
    let dGamma = 0;
    for (let k = 1; k <= s; k++) {
      const delta = lrs[k]! - lrs[k - 1]!;
      if (delta === 0) continue;
      const lr = lrs[k]!;
      const gap = X - cum[k - 1]!;
      if (lr === 0) {
        if (gap > 0) drop += delta;
        continue;
      }
      const u = C * lr ** -gamma * gap;
      const v = (1 + u) ** -beta;
      drop += delta * (1 - v);
      const r = u / (1 + u);
      dC += (delta * beta * v * r) / C;
      dBeta += delta * Math.log1p(u) * v;
      dGamma += -delta * beta * v * r * Math.log(lr);
    }
    const power = X ** -alpha;
    pred[i] = L0 + A * power + B * drop;
    if (jacobian) {
      const row = i * P;
      jacobian[row] = 1;
      jacobian[row + 1] = power;
      jacobian[row + 2] = -A * Math.log(X) * power;
      jacobian[row + 3] = drop;
      jacobian[row + 4] = B * dC;
      jacobian[row + 5] = B * dBeta;
      jacobian[row + 6] = B * dGamma;
    }
  }
  return pred;
}
