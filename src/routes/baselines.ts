/**
 * GET /baselines?fit=&totalSteps=&peakLr=&warmupSteps=: the reference schedules of the optimize
 * answer (cosine, linear, best WSD, constant; src/optimize/baselines.ts) with their predicted final
 * losses, without a search, so the What-if view compares against the same set as the Optimize view.
 * The request is checked by the optimize request's own parsing (resolveOptimizeRequest: 400/404
 * naming the field); the 33 full-length float64 evaluations run on a worker thread (BaselinesPool),
 * and the route counts against the rate limit of routes that compute (`heavy`).
 */
import type { FastifyInstance } from 'fastify';
import { BASELINE_EVALUATIONS, type Baselines } from '../optimize/baselines.js';
import { MAX_PREDICTION_US } from '../predict/budget.js';
import { badRequest } from '../errors.js';
import { BaselinesPool } from '../workers/baselines-pool.js';
import { clientGoneError, clientGoneSignal } from './client-gone.js';
import { resolveOptimizeRequest } from './optimize.js';
import * as contract from './contracts/baselines.js';
import type { Route } from './contracts/index.js';

/**
 * One float64 evaluation of the run's final loss costs about 0.15 us a step (src/optimize/context.ts),
 * so the set's work is bounded like the heaviest /predict (MAX_PREDICTION_US, about 6 s of one core):
 * about 1.2M steps. Longer runs get their baselines from a budgeted POST /optimize-schedule.
 */
const BASELINE_US_PER_STEP = 0.15 * BASELINE_EVALUATIONS;
export const BASELINES_MAX_STEPS = Math.floor(MAX_PREDICTION_US / BASELINE_US_PER_STEP);

/** Answers kept for repeated requests (the What-if view asks again on every edit of a schedule's run shape). */
const CACHE_SIZE = 64;

export default async function baselinesRoutes(app: FastifyInstance) {
  const pool = new BaselinesPool();
  const cache = new Map<string, Baselines>();
  app.addHook('onListen', async () => pool.warm());
  app.addHook('onClose', async () => pool.close());

  app.get<Route<typeof contract.getBaselines>>('/baselines', { schema: contract.getBaselines, config: { heavy: true } }, async (request, reply) => {
    const { fit, totalSteps, peakLr, warmupSteps } = request.query;
    if (totalSteps > BASELINES_MAX_STEPS) {
      throw badRequest(
        `the baselines are computed for at most ${BASELINES_MAX_STEPS} steps (about ${MAX_PREDICTION_US / 1e6} s of work), not ${totalSteps}: POST /optimize-schedule (async=1) answers them for longer runs, within its budget`,
        'totalSteps',
      );
    }
    const resolved = await resolveOptimizeRequest(app, { fit, totalSteps, peakLr, warmupSteps });
    const minLr = resolved.minLr ?? 0;
    // Keyed by the law's params, not the fit id: the answer depends on nothing else.
    const key = JSON.stringify([resolved.params, totalSteps, resolved.peakLr, resolved.warmupSteps, minLr]);
    let baselines = cache.get(key);
    if (baselines) {
      cache.delete(key);
    } else {
      const { signal, release } = clientGoneSignal(request, reply, 'the client closed the request');
      try {
        baselines = await pool.run({ params: resolved.params, totalSteps, peakLr: resolved.peakLr, warmupSteps: resolved.warmupSteps, minLr }, signal);
      } catch (error) {
        throw clientGoneError(signal, error);
      } finally {
        release();
      }
    }
    cache.set(key, baselines);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return { fit, totalSteps, peakLr: resolved.peakLr, warmupSteps: resolved.warmupSteps, baselines };
  });
}
