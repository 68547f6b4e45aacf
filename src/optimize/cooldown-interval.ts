/**
 * The prediction interval of a plan's final losses (issue 13, part 1: src/predict/interval.ts),
 * from a stored fit's interval basis and a level: what PlanOptions.interval of cooldown.ts takes.
 * A module of its own so that the planner's math does not depend on the interval code.
 */
import { getLaw } from '../laws/index.js';
import { predictionInterval } from '../predict/interval.js';
import type { IntervalBasis } from '../predict/interval-basis.js';
import type { PlanOptions } from './cooldown.js';

/** What a plan's interval needs: the fit's interval basis and the coverage level in (0, 1). Plain JSON, so a worker task can carry it. */
export interface PlanIntervalSource {
  basis: IntervalBasis;
  level: number;
}

/** The interval of the loss at one step of a whole run, at the source's level. */
export function planInterval(source: PlanIntervalSource): NonNullable<PlanOptions['interval']> {
  const law = getLaw(source.basis.law);
  return (lrs, step) => {
    const r = predictionInterval(law, source.basis, lrs, [step], source.level);
    return { lower: r.lower[0]!, upper: r.upper[0]! };
  };
}
