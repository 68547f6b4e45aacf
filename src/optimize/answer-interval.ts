/**
 * Prediction intervals of an optimize answer (issue 13, part 1), from a stored fit's interval basis
 * and a level:
 *
 *   - `curve.lower`/`curve.upper` beside `curve.loss`, and `predictedFinalInterval` (the curve's last
 *     step is the run's last), made exactly as GET /predict makes its interval
 *     (src/predict/compute-interval.ts), so the final bounds equal /predict's for the returned schedule;
 *   - `lower`/`upper` of every baseline's final loss, as the cooldown planner bounds its plans
 *     (cooldown-interval.ts), over the baseline's whole run (the fixed prefix included).
 *
 * Bounds are NaN (null in JSON) where the predicted loss is not a finite positive number, with a
 * warning (src/predict/interval.ts). Cost: 5 law evaluations with the Jacobian over the run (the
 * curve's at 64 steps at most, then one per baseline); the search keeps room for them in its budget
 * (context.ts, INTERVAL_EVALUATIONS).
 */
import { getLaw } from '../laws/index.js';
import { predictionIntervalAnswer, type IntervalTask } from '../predict/compute-interval.js';
import { baselineRunLrs, type Baselines } from './baselines.js';
import { planInterval } from './cooldown-interval.js';

/** What an answer's interval needs (plain JSON, so a worker task can carry it): as a /predict task has it. */
export type AnswerIntervalSource = IntervalTask;

/** The interval of the predicted final loss: `lower < predictedFinalLoss < upper` at `level` (null bounds: see the file comment). */
export interface FinalInterval {
  level: number;
  lower: number;
  upper: number;
}

export interface AnswerIntervals {
  predictedFinalInterval: FinalInterval;
  curve: { lower: number[]; upper: number[] };
  baselines: Baselines;
  warnings: string[];
}

/**
 * The intervals of an answer whose whole run is `lrs`, with its `curve` (the last step the run's
 * last) and `baselines` (their specs after `fixedLrs` when the run has a fixed prefix).
 */
export function answerIntervals(
  source: AnswerIntervalSource,
  lrs: Float64Array,
  curve: { steps: number[]; loss: number[] },
  baselines: Baselines,
  fixedLrs?: Float64Array,
): AnswerIntervals {
  const law = getLaw(source.basis.law);
  const steps = curve.steps;
  const onCurve = predictionIntervalAnswer(law, source, {}, lrs, steps, Float64Array.from(curve.loss), steps.length);
  const atFinal = planInterval(source);
  let missing = 0;
  const bounded = {} as Baselines;
  for (const [name, b] of Object.entries(baselines) as [keyof Baselines, Baselines[keyof Baselines]][]) {
    const run = baselineRunLrs(b.schedule, fixedLrs);
    const { lower, upper } = atFinal(run, run.length - 1, b.loss);
    if (Number.isFinite(b.loss) && !Number.isFinite(lower)) missing++;
    bounded[name] = { ...b, lower, upper };
  }
  const warnings = [...onCurve.warnings];
  if (missing > 0) {
    warnings.push(`no interval (null lower and upper) for ${missing} of the 4 baselines: the law predicts their final loss <= 0 or too far out for a finite bound (the params do not suit them)`);
  }
  return {
    predictedFinalInterval: { level: source.level, ...onCurve.final },
    curve: { lower: onCurve.lower, upper: onCurve.upper },
    baselines: bounded,
    warnings,
  };
}
