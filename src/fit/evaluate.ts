/** Metrics of a law with given params on a curve, at its logged steps (those usable for a fit). */
import { getLaw } from '../laws/index.js';
import type { Law, LawId } from '../laws/law.js';
import { curveMetrics, type CurveMetrics } from '../laws/metrics.js';
import { usablePoints } from './prepare.js';
import type { FitCurve } from './types.js';

export interface EvaluateOptions {
  fromStep?: number;
  /** Options passed to the law (e.g. `{ lambda }` for lra). */
  lawOptions?: Record<string, unknown>;
}

/**
 * R^2, MAE, RMSE, PredE, WorstE of `law` at `params` on `curve`: every logged point from `fromStep`
 * on with a positive loss (no binning: metrics always use the raw points).
 */
export function evaluateMetrics(law: Law<any> | LawId, params: ArrayLike<number>, curve: FitCurve, options: EvaluateOptions = {}): CurveMetrics {
  const resolved = typeof law === 'string' ? getLaw(law) : law;
  const { steps, loss } = usablePoints(curve, options.fromStep ?? 0);
  if (steps.length === 0) throw new RangeError(`curve ${curve.name} has no usable points to evaluate`);
  return curveMetrics(resolved.predict(curve.lrs, steps, params, options.lawOptions), loss);
}
