/**
 * POST /optimize-schedule: the schedule with the lowest predicted final loss under a stored mpl
 * fit or given mpl params (src/optimize). 200 with the result and the id of its stored schedule,
 * or with `?async=1` 202 `{jobId}` (follow at /jobs/{id} and /jobs/{id}/events). Searches run on
 * worker threads (src/optimize/pool.ts), so a long one never stalls other requests.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../errors.js';
import { getFit } from '../store/fits.js';
import { normalizeRequest, OptimizeRequestError, toResult, type OptimizeRequest } from '../optimize/index.js';
import { OptimizePool } from '../optimize/pool.js';
import { jobRunner, storeResult } from '../optimize/runner.js';
import { MAX_TOTAL_STEPS } from '../schedule/spec.js';
import { clientGoneError, clientGoneSignal } from './client-gone.js';
import { getLaw, LAW_IDS, type LawId } from '../laws/index.js';

export const optimizeBody = {
  type: 'object',
  required: ['totalSteps', 'peakLr', 'warmupSteps'],
  additionalProperties: false,
  properties: {
    fit: { type: 'integer', minimum: 1 },
    law: { type: 'string', enum: LAW_IDS },
    params: { type: 'array', items: { type: 'number' } },
    totalSteps: { type: 'integer', minimum: 2, maximum: MAX_TOTAL_STEPS },
    peakLr: { type: 'number', exclusiveMinimum: 0 },
    warmupSteps: { type: 'integer', minimum: 0 },
    minLr: { type: 'number', minimum: 0 },
    finalLr: { type: 'number', minimum: 0 },
    space: { type: 'string', enum: ['free', 'piecewise', 'wsd'] },
    pieces: { type: 'integer', minimum: 1, maximum: 1000 },
    monotone: { type: 'boolean' },
    restarts: { type: 'integer', minimum: 1, maximum: 1024 },
    budgetMs: { type: 'integer', minimum: 100, maximum: 600000 },
  },
} as const;

const optimizeQuery = {
  type: 'object',
  properties: { async: { type: 'integer', enum: [0, 1] } },
} as const;

export type OptimizeBody = Omit<OptimizeRequest, 'params'> & { fit?: number; law?: LawId; params?: number[] };

const DEGENERATE = 'the LR-annealing law (lra) cannot be optimized: its optimum is degenerate (it always prefers decaying to zero at once); fit the multi-power law (mpl) instead';

/** The request with mpl params resolved from `fit` or `law`+`params`, validated (400/404 naming the field). */
export function resolveOptimizeRequest(app: FastifyInstance, body: OptimizeBody): OptimizeRequest & { fit?: number } {
  const { fit: fitId, law, params, ...rest } = body;
  let resolved: number[];
  if (fitId !== undefined) {
    if (law !== undefined || params !== undefined) throw badRequest('give either fit=ID or law and params, not both', 'fit');
    const fit = getFit(app.db, fitId, 'fit');
    if (!getLaw(fit.law).optimizable) throw badRequest(`fit ${fitId} is an ${fit.law} fit: ${DEGENERATE}`, 'fit');
    resolved = fit.params;
  } else {
    if (law === undefined) throw badRequest('give fit=ID of an mpl fit, or law: "mpl" with params', 'fit');
    if (!getLaw(law).optimizable) throw badRequest(DEGENERATE, 'law');
    if (params === undefined) throw badRequest('law "mpl" needs params [L0, A, alpha, B, C, beta, gamma]', 'params');
    resolved = params;
  }
  const request: OptimizeRequest & { fit?: number } = { ...rest, params: resolved, ...(fitId !== undefined ? { fit: fitId } : {}) };
  try {
    normalizeRequest(request);
  } catch (err) {
    if (err instanceof OptimizeRequestError) throw badRequest(err.message, err.field);
    throw err;
  }
  return request;
}

export default async function optimizeRoutes(app: FastifyInstance) {
  const runner = jobRunner(app.db);
  const pool = new OptimizePool();
  // A listening server starts its first worker now, so the first search does not wait for it.
  app.addHook('onListen', async () => pool.warm());
  app.addHook('onClose', async () => {
    await runner.close('server stopped');
    await pool.close();
  });

  app.post<{ Body: OptimizeBody; Querystring: { async?: number } }>(
    '/optimize-schedule',
    { schema: { body: optimizeBody, querystring: optimizeQuery } },
    async (request, reply) => {
      const resolved = resolveOptimizeRequest(app, request.body);
      if (request.query.async === 1) {
        const jobId = runner.submit(resolved, async (req, options) => toResult(await pool.run(req, options)));
        return reply.code(202).header('location', `/jobs/${jobId}`).send({ jobId });
      }
      // A client that goes away stops its search.
      const { signal, release } = clientGoneSignal(request, reply, 'the client closed the request');
      try {
        const { lrs, lrsJson, ...stored } = storeResult(app.db, resolved, await pool.run(resolved, { signal, lrsJson: true }));
        // The lrs come as JSON text from the worker: serializing millions of them here would hold the event loop.
        const lrsText = lrsJson ?? Buffer.from(JSON.stringify(Array.from(lrs)));
        const body = Buffer.concat([Buffer.from('{"lrs":'), lrsText, Buffer.from(`,${JSON.stringify(stored).slice(1)}`)]);
        return reply.type('application/json; charset=utf-8').send(body);
      } catch (error) {
        throw clientGoneError(signal, error);
      } finally {
        release();
      }
    },
  );
}
