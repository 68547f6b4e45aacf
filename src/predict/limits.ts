/**
 * The hard limits of a prediction (budget.ts sizes it): an answer over MAX_ANSWER_POINTS or work
 * over MAX_PREDICTION_US is a 400 naming the field that sets it (`every`, `steps`, `schedule` or
 * `curve`), the limit, and the value that would fit.
 */
import { badRequest } from '../errors.js';
import { everyFor } from '../schedule/expand.js';
import { costTerms, estimateUs, MAX_ANSWER_POINTS, MAX_PREDICTION_US, type PredictionCost, type PredictionSize } from './budget.js';

const count = (n: number) => n.toLocaleString('en-US');
const seconds = (us: number) => `${(us / 1e6).toFixed(1)} s`;

/**
 * Longest schedule spec a prediction takes: its grammar is parsed on the event loop (about 2 ms per
 * 1000 piecewise knots, 30 KB), so a spec of 128 KiB (some 4,000 knots) costs it at most ~10-20 ms.
 */
export const MAX_SPEC_CHARS = 128 * 1024;

/** Refuse a spec longer than MAX_SPEC_CHARS before parsing it. */
export function checkSpecLength(spec: string, field = 'schedule'): void {
  if (spec.length <= MAX_SPEC_CHARS) return;
  throw badRequest(`the schedule spec is ${count(spec.length)} characters, over the limit of ${count(MAX_SPEC_CHARS)} for a prediction: give a spec with fewer knots or steps (a piecewise spec of about 4,000 knots fits)`, field);
}

/** Refuse an answer of more than MAX_ANSWER_POINTS predicted (or observed) points. */
export function checkAnswerSize(size: PredictionSize, curveId?: number): void {
  const limit = `the limit of ${count(MAX_ANSWER_POINTS)} points in an answer`;
  if (size.observedPoints > MAX_ANSWER_POINTS || (size.pointsField === 'curve' && size.points > MAX_ANSWER_POINTS)) {
    throw badRequest(
      `curve ${curveId} has ${count(size.observedPoints)} points, over ${limit} (a prediction against a curve answers every one of them): ` +
        'predict its schedule with schedule=SPEC and every=N instead, or compare against a thinned copy of the curve',
      'curve',
    );
  }
  if (size.points <= MAX_ANSWER_POINTS) return;
  if (size.pointsField === 'every') {
    throw badRequest(
      `every=${size.every} gives ${count(size.points)} points of the ${count(size.totalSteps)}-step schedule, over ${limit}: ` +
        `give every=${everyFor(size.totalSteps, MAX_ANSWER_POINTS)} or more`,
      'every',
    );
  }
  throw badRequest(`steps lists ${count(size.points)} steps, over ${limit}: ask for fewer (over several requests, or every=N)`, 'steps');
}

/** Refuse work estimated over MAX_PREDICTION_US; returns the estimate (microseconds) otherwise. */
export function checkWork(lawId: string, cost: PredictionCost, size: PredictionSize, curveId?: number): number {
  const estimated = estimateUs(cost, size);
  if (estimated <= MAX_PREDICTION_US) return estimated;
  const over = `estimated at ${seconds(estimated)} of computation, over the limit of ${seconds(MAX_PREDICTION_US)} for one prediction`;
  const { perStepUs: perStep, perPointUs, perObservedUs } = costTerms(cost, size);
  const observedUs = perObservedUs * size.observedPoints;
  const pointsUs = perPointUs * size.points + observedUs;
  const schedulePart = estimateUs(cost, { ...size, points: 1, observedPoints: 0 });
  const pointsLeft = Math.floor((MAX_PREDICTION_US - size.totalSteps * perStep - observedUs) / perPointUs);
  if (schedulePart > MAX_PREDICTION_US || pointsLeft < 2 || size.pointsField === 'default') {
    const field = size.scheduleField;
    const maxSteps = Math.max(1, Math.floor((MAX_PREDICTION_US - pointsUs) / perStep));
    const what = field === 'curve' ? `curve ${curveId}'s schedule has` : 'the schedule has';
    throw badRequest(`${what} ${count(size.totalSteps)} steps: this ${lawId} prediction is ${over}: give a schedule of at most about ${count(maxSteps)} steps`, field);
  }
  if (size.pointsField === 'every') {
    throw badRequest(
      `every=${size.every} evaluates ${count(size.points)} points of the ${count(size.totalSteps)}-step schedule: this ${lawId} prediction is ${over}: ` +
        `give every=${everyFor(size.totalSteps, pointsLeft)} or more (at most ${count(pointsLeft)} points), or a shorter schedule`,
      'every',
    );
  }
  if (size.pointsField === 'steps') {
    throw badRequest(`steps lists ${count(size.points)} steps: this ${lawId} prediction is ${over}: ask for at most ${count(pointsLeft)} steps of this schedule`, 'steps');
  }
  throw badRequest(`predicting the ${count(size.observedPoints)} points of curve ${curveId} is ${over}: predict its schedule with schedule=SPEC and every=N instead`, 'curve');
}
