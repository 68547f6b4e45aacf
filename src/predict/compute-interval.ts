/**
 * The prediction interval of a /predict answer (issue 13): `lower` and `upper` beside `loss`, in
 * `final`, the `interval` summary and the interval's own warnings, from the fit's interval basis
 * (src/predict/interval.ts). Runs where the prediction runs (inline or on a predict worker), from
 * the prediction already made: its cost is the law's Jacobian at 64 steps at most (one pass over the
 * schedule) and the distances of the points to the fit's footprint (budget.ts counts both).
 */
import type { Law } from '../laws/law.js';
import type { IntervalBasis } from './interval-basis.js';
import { INTERVAL_CALIBRATION, levelMultiplier } from './interval-calibration.js';
import { PEAK_TOLERANCE } from './interval-domain.js';
import { missingIntervalWarning, predictionInterval } from './interval.js';

/** What a prediction task needs for its interval (plain data, structured-cloneable). */
export interface IntervalTask {
  /** Coverage level in (0, 1). */
  level: number;
  basis: IntervalBasis;
  /** Whether the fit is of the kind the constants were calibrated on (mpl, method map). */
  calibrated: boolean;
  /** The fit's law and method, for the warning of an uncalibrated one ("lra", "mpl method adam"). */
  fitKind: string;
}

/** The parts of the answer the interval adds. */
export interface IntervalAnswer {
  lower: number[];
  upper: number[];
  final: { lower: number; upper: number };
  interval: { level: number; multiplier: number; calibrated: boolean; method: string };
  warnings: string[];
}

/** The answer's one-line method summary (README, Prediction intervals, has the figures). */
const METHOD =
  "loss x exp(+-k sigma): the params' covariance (residual-block sandwich) through the law's Jacobian, plus a model error growing " +
  "with the schedule's distance from the fitted ones (shape, steps beyond the longest, peak lr); calibrated on the transfer benchmark's held-out runs";

const count = (n: number) => n.toLocaleString('en-US');

/** The interval's own warnings: an uncalibrated fit, steps beyond the fitted horizon, a peak outside the fitted peaks. */
function intervalWarnings(task: IntervalTask, lrs: Float64Array, steps: ArrayLike<number>): string[] {
  const { domain } = task.basis;
  const warnings: string[] = [];
  if (!task.calibrated) {
    warnings.push(`the interval's constants were calibrated on mpl fits with method map; this ${task.fitKind} fit uses them uncalibrated`);
  }
  let beyond = -1;
  for (const s of Array.from(steps)) if (s >= domain.maxSteps && (beyond < 0 || s < beyond)) beyond = s;
  if (beyond >= 0) {
    warnings.push(`the interval widens beyond the fit's longest schedule (${count(domain.maxSteps)} steps), from step ${count(beyond)}: a horizon extrapolation`);
  }
  let peak = 0;
  for (const lr of lrs) if (lr > peak) peak = lr;
  const lo = Math.min(...domain.peakLrs);
  const hi = Math.max(...domain.peakLrs);
  if (peak > 0 && lo > 0 && Math.max(Math.log(peak / hi), Math.log(lo / peak)) > PEAK_TOLERANCE) {
    const range = lo === hi ? `${hi}` : `${lo} to ${hi}`;
    warnings.push(`the schedule's peak lr ${peak} lies outside the fitted peaks (${range}): the interval counts it as a model error growing with the distance (cross-peak predictions are the least sure)`);
  }
  return warnings;
}

/** The interval at `steps` (the answer's steps, then the last step) of the prediction `predicted` there. */
export function predictionIntervalAnswer(law: Law<any>, task: IntervalTask, lawOptions: Record<string, unknown>, lrs: Float64Array, steps: number[], predicted: Float64Array, answered: number): IntervalAnswer {
  // The Jacobian is taken with the law options the prediction used (the query's may replace the fit's).
  const basis = Object.keys(lawOptions).length > 0 ? { ...task.basis, lawOptions } : task.basis;
  const { lower, upper, missing } = predictionInterval(law, basis, lrs, steps, task.level, { loss: predicted });
  const last = steps.length - 1;
  const gaps = missingIntervalWarning(missing, steps.length);
  return {
    lower: Array.from(lower.subarray(0, answered)),
    upper: Array.from(upper.subarray(0, answered)),
    final: { lower: lower[last]!, upper: upper[last]! },
    interval: { level: task.level, multiplier: levelMultiplier(task.level, INTERVAL_CALIBRATION), calibrated: task.calibrated, method: METHOD },
    warnings: [...intervalWarnings(task, lrs, steps), ...(gaps ? [gaps] : [])],
  };
}
