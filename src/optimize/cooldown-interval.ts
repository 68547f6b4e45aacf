/**
 * The prediction interval of a whole run's loss at one step (issue 13, part 1: src/predict/interval.ts),
 * from a stored fit's interval basis and a level: what PlanOptions.interval of cooldown.ts takes, and
 * what the optimizer's answer gives its baselines (answer-interval.ts). A module of its own so that
 * the planner's and the search's math do not depend on the interval code.
 */
import { getLaw } from '../laws/index.js';
import { predictionInterval } from '../predict/interval.js';
import type { IntervalBasis } from '../predict/interval-basis.js';

/** What a plan's interval needs: the fit's interval basis and the coverage level in (0, 1). Plain JSON, so a worker task can carry it. */
export interface PlanIntervalSource {
  basis: IntervalBasis;
  level: number;
}

/** The bounds at one step; NaN (null in JSON) where the prediction is not a finite positive loss (predictionInterval). */
export interface StepBounds {
  lower: number;
  upper: number;
}

/**
 * The interval of the loss at `step` of the whole run `lrs`, at the source's level: one law evaluation
 * with its Jacobian over the run. `loss`, when the caller has the prediction there, saves one more.
 */
export function planInterval(source: PlanIntervalSource): (lrs: Float64Array, step: number, loss?: number) => StepBounds {
  const law = getLaw(source.basis.law);
  return (lrs, step, loss) => {
    const r = predictionInterval(law, source.basis, lrs, [step], source.level, loss === undefined ? {} : { loss: [loss] });
    return { lower: r.lower[0]!, upper: r.upper[0]! };
  };
}
