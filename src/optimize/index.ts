/**
 * Learning-rate schedule optimization under the multi-power law: minimize the predicted loss at
 * the last step over schedules with a fixed linear warmup (or a fixed prefix: the lrs a run has
 * already used, prefix.ts), lrs in [minLr, peakLr], optionally a fixed final lr and a
 * non-increasing decay.
 *
 * `runSearch`: the request is normalized and checked (request.ts), the search context built
 * (context.ts: backend, baselines, budget, progress, cancellation), and the space's strategy
 * (spaces/: free, piecewise, wsd) searches with batched projected Adam (search.ts) on TF.js autodiff
 * gradients of the law's final-step loss (objective.ts). The best candidate becomes the answer
 * (answer.ts): a piecewise spec (export.ts), re-expanded, its loss recomputed in float64 by
 * `predictMpl`, with its curve and warnings, and with prediction intervals when the caller gives a
 * fit's interval basis (answer-interval.ts).
 */
import { AbortError } from './search.js';
import { resolveRequest, type OptimizeInput } from './request.js';
import { SearchContext, type OptimizeOptions } from './context.js';
import { buildAnswer, type OptimizeOutcome, type OptimizeResult } from './answer.js';
import { STRATEGIES, type Candidate } from './spaces/index.js';

export { initBackend, currentBackend, backendNotes, tf } from './backend.js';
export { AbortError } from './search.js';
export { normalizeRequest, resolveRequest, OptimizeRequestError, OPTIMIZE_LIMITS, type OptimizeRequest, type OptimizeInput, type NormalizedRequest, type SearchRequest } from './request.js';
export type { OptimizeOptions, OptimizeProgress } from './context.js';
export { curveSteps, countRises, type OptimizeResult, type OptimizeOutcome } from './answer.js';
export type { SpaceName } from './spaces/index.js';
export type { Baselines, Baseline } from './baselines.js';

/**
 * Search for the schedule with the lowest predicted final loss, on this thread (see src/workers/search-pool.ts for
 * worker threads), with its lrs as a Float64Array. Throws OptimizeRequestError for a bad request,
 * AbortError when `hooks.signal` aborts.
 */
export async function runSearch(request: OptimizeInput, hooks: OptimizeOptions = {}): Promise<OptimizeOutcome> {
  const t0 = performance.now();
  const req = resolveRequest(request);
  const ctx = await SearchContext.create(req, hooks, t0);
  let best: Candidate;
  try {
    ctx.report(0, 0, Infinity);
    best = await STRATEGIES[req.space].search(ctx);
  } finally {
    ctx.dispose();
  }
  if (hooks.signal?.aborted) throw new AbortError();
  return buildAnswer(ctx, best);
}

/** `runSearch` with the lrs as a plain array. */
export async function optimizeSchedule(request: OptimizeInput, options: OptimizeOptions = {}): Promise<OptimizeResult> {
  return toResult(await runSearch(request, options));
}

/** The outcome with its lrs as a plain array (an indexed copy: a few times faster than Array.from). */
export function toResult(outcome: OptimizeOutcome): OptimizeResult {
  const lrs = new Array<number>(outcome.lrs.length);
  for (let s = 0; s < lrs.length; s++) lrs[s] = outcome.lrs[s]!;
  return { ...outcome, lrs };
}
