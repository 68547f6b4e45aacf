/**
 * Prediction intervals of a law's loss curve (issue 13): `predictionInterval` gives `lower` and
 * `upper` beside each predicted loss at a coverage level (0.8, 0.95 or any in (0, 1)), from what a
 * stored fit keeps (its IntervalBasis, interval-basis.ts) and the schedule alone.
 *
 * At each step, ln(obs / pred) is taken to have the scale sigma of interval-calibration.ts: the
 * parameter uncertainty propagated through the law's Jacobian (block-sandwich covariance,
 * interval-covariance.ts) plus a model-error term that grows with the step's distance from the
 * fitted schedules (shape, horizon beyond the longest fitted schedule, peak lr outside the fitted
 * peaks; interval-domain.ts), calibrated on the transfer benchmark's held-out points
 * (bench/intervals.ts). The interval is pred * exp(+-k(level) sigma): never of zero width
 * (sigma >= MIN_SCALE), and wider the further a step lies beyond the fit's data. Where the
 * prediction is not a finite positive loss (S(s) = 0 before any lr, or params that do not suit the
 * schedule: far extrapolation can drive the law to or below 0), a log-scale interval has no meaning:
 * its bounds are NaN (null in JSON) and `missing` counts them, rather than a zero-width interval
 * around a meaningless value (missingIntervalWarning says so in an answer).
 *
 * The constants were calibrated on mpl fits with the default method (map); other methods and lra
 * use the same formula and constants, uncalibrated.
 *
 * Cost: the parameter variance needs the law's Jacobian, evaluated at JACOBIAN_POINTS steps at most
 * (spread over the requested ones, evenly and in log step; its square root, smooth in the step, is
 * interpolated between them), plus the distances to the footprint. mpl, 24,000-step schedule, 500
 * points, with the prediction given: about 3.3-3.7 ms on top of the prediction's 3-6 ms on a 2-core
 * machine (the Jacobian's pass over the schedule is most of it; bench/results/intervals.md).
 */
import type { Law } from '../laws/law.js';
import type { IntervalBasis } from './interval-basis.js';
import { INTERVAL_CALIBRATION, levelMultiplier, logErrorScale, type IntervalCalibration } from './interval-calibration.js';
import { extrapolation } from './interval-domain.js';

/** At most this many steps get the law's Jacobian per interval; the variance is interpolated between them. */
export const JACOBIAN_POINTS = 64;

/**
 * The prediction at `steps` and the variance of its log from the params' covariance, g^T Cov g with
 * g = d ln(pred) / d params (one evaluation of the law with its analytic Jacobian at every step).
 */
export function parameterVariance(law: Law<any>, basis: IntervalBasis, lrs: Float64Array, steps: ArrayLike<number>): { pred: Float64Array; variance: Float64Array } {
  const { pred, jacobian } = law.predictWithJacobian(lrs, steps, basis.params, basis.lawOptions);
  const P = basis.params.length;
  const cov = basis.covariance;
  const variance = new Float64Array(steps.length);
  const g = new Float64Array(P);
  for (let i = 0; i < steps.length; i++) {
    const p = pred[i]!;
    for (let a = 0; a < P; a++) g[a] = jacobian[i * P + a]! / p;
    let v = 0;
    for (let a = 0; a < P; a++) {
      let row = 0;
      for (let b = 0; b < P; b++) row += cov[a]![b]! * g[b]!;
      v += g[a]! * row;
    }
    // Rounding can make a tiny variance negative (0); NaN (S(s) = 0, or an overflowing Jacobian) stays NaN: unknown, not 0.
    variance[i] = v < 0 ? 0 : v;
  }
  return { pred, variance };
}

/**
 * The parameter variance at `steps` from the Jacobian at `maxPoints` of them at most: half spread
 * evenly over the distinct requested steps, half evenly in log step (the variance changes fastest
 * early in a run), first and last included; the standard deviation is interpolated linearly in
 * ln(step + 1) between them. Steps whose variance is not finite (S(s) = 0) are left out of the knots.
 */
export function interpolatedParameterVariance(law: Law<any>, basis: IntervalBasis, lrs: Float64Array, steps: ArrayLike<number>, maxPoints = JACOBIAN_POINTS): Float64Array {
  const distinct = [...new Set(Array.from(steps))].sort((a, b) => a - b);
  if (distinct.length <= maxPoints) {
    const { variance } = parameterVariance(law, basis, lrs, distinct);
    const at = new Map(distinct.map((s, i) => [s, variance[i]!]));
    return Float64Array.from(steps, (s) => at.get(s)!);
  }
  const half = Math.max(2, Math.floor(maxPoints / 2));
  const chosen = new Set<number>();
  const first = Math.log(distinct[0]! + 1);
  const last = Math.log(distinct[distinct.length - 1]! + 1);
  for (let k = 0; k < half; k++) {
    chosen.add(distinct[Math.round((k * (distinct.length - 1)) / (half - 1))]!);
    // The requested step nearest (in log step) to an even grid of log steps.
    const target = first + ((last - first) * k) / (half - 1);
    let lo = 0;
    let hi = distinct.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (Math.log(distinct[mid]! + 1) < target) lo = mid;
      else hi = mid;
    }
    chosen.add(Math.abs(Math.log(distinct[lo]! + 1) - target) <= Math.abs(Math.log(distinct[hi]! + 1) - target) ? distinct[lo]! : distinct[hi]!);
  }
  const knots = [...chosen].sort((a, b) => a - b);
  const { variance } = parameterVariance(law, basis, lrs, knots);
  const xs: number[] = [];
  const sds: number[] = [];
  knots.forEach((s, i) => {
    if (Number.isFinite(variance[i]!)) {
      xs.push(Math.log(s + 1));
      sds.push(Math.sqrt(variance[i]!));
    }
  });
  if (xs.length === 0) return new Float64Array(steps.length);
  return Float64Array.from(steps, (s) => {
    const x = Math.log(s + 1);
    let lo = 0;
    let hi = xs.length - 1;
    if (x <= xs[0]!) return sds[0]! ** 2;
    if (x >= xs[hi]!) return sds[hi]! ** 2;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! <= x) lo = mid;
      else hi = mid;
    }
    const t = (x - xs[lo]!) / (xs[hi]! - xs[lo]!);
    return (sds[lo]! + t * (sds[hi]! - sds[lo]!)) ** 2;
  });
}

export interface PredictionInterval {
  /** The predicted loss at each step (as given, or the law's prediction). */
  loss: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  /** sigma of ln(obs / pred) at each step (interval-calibration.ts). */
  scale: Float64Array;
  level: number;
  /**
   * Steps with a finite prediction but no interval (NaN bounds): the prediction is <= 0, or its scale
   * or upper bound is not finite. (Where the prediction itself is not finite its bounds are NaN too, not counted.)
   */
  missing: number;
}

export interface IntervalOptions {
  /** The prediction at `steps` when the caller has it (GET /predict does): saves one evaluation. */
  loss?: ArrayLike<number>;
  /** The constants (default: the calibrated INTERVAL_CALIBRATION). */
  calibration?: IntervalCalibration;
  /** Steps that get the law's Jacobian at most (default JACOBIAN_POINTS; Infinity: every step). */
  jacobianPoints?: number;
}

/**
 * The interval at `level` of the loss predicted from `basis` (its params and law options) at `steps`
 * of the schedule `lrs`. Where the prediction is not finite or not positive (a step with S(s) = 0,
 * or params that drive the law to <= 0), or its scale or upper bound overflow, both bounds are NaN
 * (see the file comment). Throws a RangeError for a level outside (0, 1).
 */
export function predictionInterval(law: Law<any>, basis: IntervalBasis, lrs: Float64Array, steps: ArrayLike<number>, level: number, options: IntervalOptions = {}): PredictionInterval {
  const calibration = options.calibration ?? INTERVAL_CALIBRATION;
  const k = levelMultiplier(level, calibration);
  const loss = options.loss ? Float64Array.from(options.loss) : law.predict(lrs, steps, basis.params, basis.lawOptions);
  if (loss.length !== steps.length) throw new RangeError(`loss has ${loss.length} values for ${steps.length} steps`);
  const variance = interpolatedParameterVariance(law, basis, lrs, steps, options.jacobianPoints ?? JACOBIAN_POINTS);
  const { shape, horizon, peak } = extrapolation(basis.domain, lrs, steps, calibration.kappa);
  const n = steps.length;
  const lower = new Float64Array(n);
  const upper = new Float64Array(n);
  const scale = new Float64Array(n);
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const p = loss[i]!;
    // An unknown parameter variance is no reason to leave it out (it would narrow the interval): NaN, and no interval.
    const sigma = logErrorScale(variance[i]!, Number.isFinite(shape[i]!) ? shape[i]! : 0, horizon[i]!, peak, calibration);
    scale[i] = sigma;
    const up = p * Math.exp(k * sigma);
    if (!(Number.isFinite(p) && p > 0 && Number.isFinite(sigma) && Number.isFinite(up))) {
      lower[i] = NaN;
      upper[i] = NaN;
      if (Number.isFinite(p)) missing++;
      continue;
    }
    lower[i] = p * Math.exp(-k * sigma);
    upper[i] = up;
  }
  return { loss, lower, upper, scale, level, missing };
}

/**
 * The warning of an answer whose interval leaves out `missing` of its `total` steps (null bounds;
 * see predictionInterval), or undefined when none is left out.
 */
export function missingIntervalWarning(missing: number, total: number): string | undefined {
  if (missing === 0) return undefined;
  return (
    `no interval (null lower and upper) at ${missing} of ${total} step(s): the predicted loss there is <= 0 or too far out for a finite bound ` +
    '(the params do not suit this schedule: an extrapolation too far), and an interval on the log scale around it would mean nothing'
  );
}
