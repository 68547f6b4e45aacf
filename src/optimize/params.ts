/**
 * The check of multi-power-law params shared by the schedule search (request.ts) and the cooldown
 * planner (cooldown.ts), in a module of its own so that the planner's worker does not load TF.js.
 */
import { MPL_PARAMS } from '../laws/mpl/law.js';
import { outOfDomain } from '../laws/law.js';
import { fail } from './request-error.js';

/** Every mpl param's magnitude stays below this (the fit bounds are far inside it; beyond it the predictions overflow). */
export const MAX_PARAM = 1e6;

/** The law's params: 7 finite numbers of a sane magnitude inside the law's domain (also the cooldown planner's). */
export function checkMplParams(params: unknown): asserts params is number[] {
  if (!Array.isArray(params) || params.length !== 7) {
    fail('params must be 7 finite numbers [L0, A, alpha, B, C, beta, gamma] of the multi-power law', 'params');
  }
  // Each param finite, of a sane magnitude and inside the law's domain, before any work.
  params.forEach((v: unknown, i) => {
    const name = MPL_PARAMS[i]!.name;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`params[${i}] (${name}) must be a finite number`, `params[${i}]`);
    if (Math.abs(v) >= MAX_PARAM) fail(`params[${i}] (${name}) = ${v} is out of range: its magnitude must be below ${MAX_PARAM}`, `params[${i}]`);
    const outside = outOfDomain([MPL_PARAMS[i]!], [v]);
    if (outside.length > 0) fail(`params[${i}] = ${v} is outside the multi-power law's domain: needs ${outside.join(', ')}`, `params[${i}]`);
  });
}
