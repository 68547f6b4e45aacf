/**
 * Goodness-of-fit metrics of a predicted loss curve, as the multi-power-law paper reports them:
 * R^2 = 1 - SS_res / SS_tot (SS_tot about the mean observed loss), MAE, RMSE,
 * PredE = mean |pred - obs| / obs and WorstE = max |pred - obs| / obs.
 */
export interface CurveMetrics {
  r2: number;
  mae: number;
  rmse: number;
  predE: number;
  worstE: number;
  /** Number of points the metrics are over. */
  points: number;
}

export const METRIC_NAMES = ['r2', 'mae', 'rmse', 'predE', 'worstE'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Metrics of `pred` against `observed` (same length, at least one point). */
export function curveMetrics(pred: ArrayLike<number>, observed: ArrayLike<number>): CurveMetrics {
  const n = observed.length;
  if (pred.length !== n) throw new RangeError(`pred has ${pred.length} points, observed ${n}`);
  if (n === 0) throw new RangeError('metrics need at least one point');
  let mean = 0;
  for (let i = 0; i < n; i++) mean += observed[i]!;
  mean /= n;
  let ssRes = 0;
  let ssTot = 0;
  let absSum = 0;
  let relSum = 0;
  let relMax = 0;
  for (let i = 0; i < n; i++) {
    const obs = observed[i]!;
    const err = pred[i]! - obs;
    ssRes += err * err;
    ssTot += (obs - mean) * (obs - mean);
    absSum += Math.abs(err);
    const rel = Math.abs(err) / obs;
    relSum += rel;
    if (rel > relMax) relMax = rel;
  }
  return {
    r2: ssTot > 0 ? 1 - ssRes / ssTot : NaN,
    mae: absSum / n,
    rmse: Math.sqrt(ssRes / n),
    predE: relSum / n,
    worstE: relMax,
    points: n,
  };
}

/** The mean of each metric over several curves (each curve weighs the same, as the paper averages). */
export function meanMetrics(list: readonly CurveMetrics[]): CurveMetrics {
  const out: CurveMetrics = { r2: 0, mae: 0, rmse: 0, predE: 0, worstE: 0, points: 0 };
  for (const m of list) {
    for (const name of METRIC_NAMES) out[name] += m[name];
    out.points += m.points;
  }
  for (const name of METRIC_NAMES) out[name] /= list.length;
  return out;
}
