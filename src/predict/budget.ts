/**
 * What a prediction may cost and where it runs. Every /predict request is sized before any work:
 * its answer (points) and its computation (an estimate in microseconds of one core, from the law's
 * own cost terms: per schedule step and per evaluated point). Small ones run inline on the event
 * loop, larger ones on a worker thread, the heaviest one at a time, and anything over the limits is
 * a 400 naming the field to change and by how much.
 *
 * Calibration (2-core machine class, warm JIT): a 24,000-step cosine MPL prediction at 500 points
 * takes about 6 ms (0.6 expansion + 5.8 evaluation), 24,000 points (every=1) about 105-145 ms, a
 * 2,000,000-step one at 500 points 0.3-0.6 s, a 10,000,000-step one about 4-5 s and 1 GB. Each law
 * declares its own cost terms (`Law.predictionCost`). A prediction interval adds its own terms
 * (INTERVAL_COST: the law's Jacobian over the schedule, the footprint distances per point).
 */
import type { Law, PredictionCost } from '../laws/law.js';
import type { ScheduleSpec } from '../schedule/spec.js';

export type { PredictionCost };

/** At most this many predicted points in an answer (about 2.5 MB of JSON); as many observed ones with `curve`. */
export const MAX_ANSWER_POINTS = 100_000;
/** Estimated work up to which a prediction runs on the event loop ("a few ms", never more). */
export const INLINE_MAX_US = 2_000;
/** Estimated work from which a prediction is heavy: one at a time on the pool (memory about 110 bytes a step). */
export const HEAVY_MIN_US = 250_000;
/** Estimated work above which a prediction is refused: about 6 s of one core (a 10,000,000-step schedule fits). */
export const MAX_PREDICTION_US = 6_000_000;

/**
 * What a prediction interval adds (src/predict/interval.ts): one pass of the law's Jacobian over the
 * schedule (about 0.15 us a step) and, per answered point, its distance to the fit's footprint and
 * its bounds (about 2 us). A 24,000-step mpl schedule at 500 points: about 3.5 ms more.
 */
export const INTERVAL_COST: PredictionCost = { perStepUs: 0.15, perPointUs: 2 };

/** The law's own cost terms (each law declares its measured `predictionCost`). */
export function lawPredictionCost(law: Law<any>): PredictionCost {
  return law.predictionCost;
}

/** Expanding a spec, per step: src/schedule/cost.ts (shared with the routes that expand inline). */
export { expansionUsPerStep } from '../schedule/cost.js';

/** Where the points of an answer come from: the request field that sets their number. */
export type PointsField = 'steps' | 'every' | 'curve' | 'default';

/** The size of a prediction request, known before any work. */
export interface PredictionSize {
  /** Steps of the schedule. */
  totalSteps: number;
  /** The field the schedule came from (`schedule` or `curve`). */
  scheduleField: 'schedule' | 'curve';
  /** Cost of expanding the schedule, per step (expansionUsPerStep). */
  expansionUsPerStep: number;
  /** Predicted points (at most; the last step included) and what set their number. */
  points: number;
  pointsField: PointsField;
  /** `every=N` when given (for the advice to raise it). */
  every?: number;
  /** Observed points of a curve: answered as they are, and predicted again for the metrics. */
  observedPoints: number;
  /** With a prediction interval (INTERVAL_COST on top). */
  interval?: boolean;
}

export type Placement = 'inline' | 'worker' | 'heavy';

/**
 * The cost terms of a request: per schedule step (the law's, the spec's expansion, an interval's
 * Jacobian), per answered point (the law's, an interval's) and per observed point (the law's).
 */
export function costTerms(cost: PredictionCost, size: PredictionSize): { perStepUs: number; perPointUs: number; perObservedUs: number } {
  const interval = size.interval ? INTERVAL_COST : { perStepUs: 0, perPointUs: 0 };
  return {
    perStepUs: cost.perStepUs + size.expansionUsPerStep + interval.perStepUs,
    perPointUs: cost.perPointUs + interval.perPointUs,
    perObservedUs: cost.perPointUs,
  };
}

/** The estimated work of a prediction, in microseconds of one core. */
export function estimateUs(cost: PredictionCost, size: PredictionSize): number {
  const terms = costTerms(cost, size);
  return size.totalSteps * terms.perStepUs + terms.perPointUs * size.points + terms.perObservedUs * size.observedPoints;
}

/**
 * Where a prediction of this estimated work runs. An `expr` spec never runs inline: its f needs
 * mathjs, which a thread loads on its first one (about a second).
 */
export function placement(estimatedUs: number, spec: ScheduleSpec | undefined): Placement {
  if (estimatedUs <= INLINE_MAX_US && spec?.family !== 'expr') return 'inline';
  return estimatedUs < HEAVY_MIN_US ? 'worker' : 'heavy';
}
