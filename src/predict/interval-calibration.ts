/**
 * The calibration of prediction intervals: how the scale of a prediction's log error is built from
 * its covariates, and the constants, chosen on the held-out points of the transfer benchmark
 * (bench/intervals.ts; figures in bench/results/intervals.md).
 *
 * The log error ln(observed / predicted) at a step has the scale
 *
 *   sigma^2 = v + MIN_SCALE^2 + floor^2 + (shape * d + horizon * h + peak * p)^2
 *
 * v: the variance of ln(pred) from the params' covariance (interval.ts, parameterVariance), taken
 * as it is; d, h, p: the step's shape distance (with `kappa`), horizon and peak covariates
 * (interval-domain.ts). The interval at level q is pred * exp(+-k(q) sigma), k80 and k95 calibrated
 * and k(q) carried to any other level by a log-logistic law through them (levelMultiplier): the
 * errors have much heavier tails than a normal law.
 *
 * How the constants were chosen (bench/intervals-calibrate.ts): floor, shape, horizon and peak by
 * maximum likelihood of |ln(obs / pred)| ~ Laplace(0, sigma) over the held-out points of every
 * transfer protocol (each protocol weighing the same, each target the same within it), k80 and k95
 * as the weighted 80% and 95% quantiles of |ln(obs / pred)| / sigma over the same points, and kappa
 * from a grid by leave-one-group-out coverage.
 */

/** The constants of the interval (see the file comment). */
export interface IntervalCalibration {
  /** Weight of the log lr-sum axis in the shape distance. */
  kappa: number;
  /** Constant model-error scale (log units). */
  floor: number;
  /** Model-error scale per unit of shape distance. */
  shape: number;
  /** Model-error scale per unit of ln(step / longest fitted schedule) beyond it. */
  horizon: number;
  /** Model-error scale per unit of ln(peak lr / nearest fitted peak) outside them. */
  peak: number;
  /** Multipliers of sigma at levels 0.8 and 0.95. */
  k80: number;
  k95: number;
}

/** The smallest scale of a log error (0.01%): an interval never collapses to zero width. */
export const MIN_SCALE = 1e-4;

/** The calibrated constants (bench/intervals.ts, all six protocol groups; bench/results/intervals.md). */
export const INTERVAL_CALIBRATION: IntervalCalibration = {
  kappa: 1,
  floor: 0.0004518,
  shape: 0.03821,
  horizon: 0.0007911,
  peak: 0.02305,
  k80: 1.698,
  k95: 4.313,
};

/**
 * The multiplier k(level) of sigma for a central interval at `level` in (0, 1): the `level` quantile
 * of |ln(obs / pred)| / sigma under a log-logistic law through the two calibrated quantiles,
 *
 *   k(q) = k80 * ((q / (1 - q)) / 4)^(1 / shape),   shape = ln(19 / 4) / ln(k95 / k80)
 *
 * (q / (1 - q) is 4 at 0.8 and 19 at 0.95). It matches the benchmark's empirical multipliers at the
 * levels between (0.5, 0.68, 0.9) to a few percent and is conservative at 0.99 (figures in
 * bench/results/intervals.md). A normal law would need k95 / k80 = 1.53; the errors' is about 2.5.
 */
export function levelMultiplier(level: number, calibration: IntervalCalibration = INTERVAL_CALIBRATION): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`an interval level must be in (0, 1), got ${level}`);
  const shape = Math.log(19 / 4) / Math.log(calibration.k95 / calibration.k80);
  return calibration.k80 * (level / (1 - level) / 4) ** (1 / shape);
}

/** sigma of the log error (see the file comment) from the parameter variance and the covariates. */
export function logErrorScale(paramVariance: number, shape: number, horizon: number, peak: number, calibration: IntervalCalibration = INTERVAL_CALIBRATION): number {
  const model = calibration.shape * shape + calibration.horizon * horizon + calibration.peak * peak;
  return Math.sqrt(Math.max(0, paramVariance) + MIN_SCALE * MIN_SCALE + calibration.floor * calibration.floor + model * model);
}
