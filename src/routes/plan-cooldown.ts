/**
 * POST /plan-cooldown: for a run in a constant-lr phase (a stored curve, or a prefix spec), the
 * predicted final loss of every cooldown on a grid and the best one, with its gain over cooling
 * down now and over the default 20% cooldown at the end of the budget (src/optimize/cooldown.ts).
 * A route of its own rather than a `space` of /optimize-schedule: it evaluates a grid (no search,
 * no TF.js, no job) and answers a table, not one schedule.
 *
 * The work is sized before any is done: over the limit a 400 naming `grid`; small plans run inline,
 * the others on a worker thread (src/workers/search-cooldown-pool.ts), dropped if the client leaves.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, found } from '../errors.js';
import { intervalBasesOf } from './fit-interval-basis.js';
import type { LawId } from '../laws/index.js';
import { OptimizeRequestError } from '../optimize/request-error.js';
import { answerPlan, PLAN_LIMITS, sizePlan, type CooldownPlanRequest, type SizedPlan } from '../optimize/cooldown.js';
import { evaluateCooldowns } from '../optimize/cooldown-eval.js';
import type { CooldownGridInput } from '../optimize/cooldown-grid.js';
import { planInterval, type PlanIntervalSource } from '../optimize/cooldown-interval.js';
import { CooldownPool } from '../workers/search-cooldown-pool.js';
import { requestProblem, resolveParams, resolvePrefix } from './optimize.js';
import { clientGoneError, clientGoneSignal } from './client-gone.js';
import * as contract from './contracts/plan-cooldown.js';

interface PlanCooldownBody {
  fit?: number;
  law?: LawId;
  params?: number[];
  curve?: number;
  prefix?: string;
  prefixSteps?: number;
  totalSteps: number;
  grid?: CooldownGridInput;
  interval?: number;
}

const NOT_MPL = 'the cooldown planner evaluates the multi-power law (mpl) only: fit mpl to the run';

/** The plan request with its law params and run so far resolved, checked and sized (400/404 naming the field). */
async function sizedRequest(app: FastifyInstance, body: PlanCooldownBody): Promise<SizedPlan> {
  const { fit, law, params, curve, prefix, prefixSteps, totalSteps, grid } = body;
  const resolved = await resolveParams(app, fit, law, params, NOT_MPL);
  const fixed = await resolvePrefix(app, { curve, prefix, prefixSteps });
  if (fixed.prefix === undefined) throw badRequest('give the run so far: curve=ID, or a prefix spec with prefixSteps', 'curve');
  const request: CooldownPlanRequest = { params: resolved, totalSteps, prefix: fixed.prefix, prefixSteps: fixed.prefixSteps, ...(grid ? { grid } : {}) };
  try {
    return sizePlan(request);
  } catch (err) {
    if (err instanceof OptimizeRequestError) throw requestProblem(err, curve);
    throw err;
  }
}

/**
 * With `interval` (a level): the fit's interval basis, for lower/upper of the best plan and the
 * references: stored, or rebuilt from its curves for a fit stored before intervals, as GET /predict
 * does (409 naming `fit` when they are gone). 400 without a stored fit.
 */
async function intervalSource(app: FastifyInstance, body: PlanCooldownBody): Promise<PlanIntervalSource | undefined> {
  if (body.interval === undefined) return undefined;
  if (body.fit === undefined) throw badRequest('an interval needs a stored fit (fit=ID): it comes from the fit\'s interval basis', 'interval');
  const fit = found(await app.store.fits.get(body.fit), 'fit', body.fit, 'fit');
  return { basis: await intervalBasesOf(app.store).of(fit), level: body.interval };
}

export default async function planCooldownRoutes(app: FastifyInstance) {
  const pool = new CooldownPool();
  // A listening server starts a worker now, so the first big plan does not wait for it.
  app.addHook('onListen', async () => pool.warm());
  app.addHook('onClose', async () => pool.close());

  app.post<{ Body: PlanCooldownBody }>('/plan-cooldown', { schema: contract.planCooldown }, async (request, reply) => {
    const plan = await sizedRequest(app, request.body);
    const interval = await intervalSource(app, request.body);
    if (plan.work <= PLAN_LIMITS.inlineWork) {
      return answerPlan(plan, evaluateCooldowns(plan.terms, plan.candidates, plan.request.params), interval ? { interval: planInterval(interval) } : {});
    }
    const { signal, release } = clientGoneSignal(request, reply, 'the client closed the request');
    try {
      const json = await pool.run(plan.request, interval, signal);
      return reply.type('application/json; charset=utf-8').send(Buffer.from(json.buffer, json.byteOffset, json.byteLength));
    } catch (error) {
      if (error instanceof OptimizeRequestError) throw requestProblem(error, request.body.curve);
      throw clientGoneError(signal, error);
    } finally {
      release();
    }
  });
}
