/**
 * The steps of a sampled schedule answer (/schedules/expand, /curves/{id}/schedule): every N-th step
 * plus the last, at most MAX_EXPANDED_VALUES of them. A requested `every` that gives more is a 400
 * naming the smallest one that fits; without one, the default is thinned to fit.
 */
import { badRequest } from '../errors.js';
import { everyFor, sampledCount, sampleSteps } from '../schedule/expand.js';
import { MAX_EXPANDED_VALUES } from './contracts/schedules.js';

export function boundedSampleSteps(total: number, every: number | undefined, defaultEvery: number): number[] {
  const chosen = every ?? Math.max(defaultEvery, everyFor(total, MAX_EXPANDED_VALUES));
  if (sampledCount(total, chosen) > MAX_EXPANDED_VALUES) {
    throw badRequest(`every=${chosen} over ${total} steps gives more than ${MAX_EXPANDED_VALUES} values in an answer: give every=${everyFor(total, MAX_EXPANDED_VALUES)} or more`, 'every');
  }
  return sampleSteps(total, chosen);
}
