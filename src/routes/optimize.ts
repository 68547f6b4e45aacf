/**
 * POST /optimize-schedule: the schedule with the lowest predicted final loss under a stored mpl
 * fit or given mpl params (src/optimize). 200 with the result and the id of its stored schedule,
 * or with `?async=1` 202 `{jobId}` (follow at /jobs/{id} and /jobs/{id}/events). With `interval` (a
 * stored fit's), the answer carries prediction intervals (src/optimize/answer-interval.ts). Searches run on
 * worker threads (src/workers/search-pool.ts), so a long one never stalls other requests. Async
 * searches are jobs of the app's runner (src/jobs); storing a search's schedule is this route's job.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, found, HttpProblem } from '../errors.js';
import { normalizeRequest, OptimizeRequestError, toResult, type OptimizeInput, type OptimizeRequest, type OptimizeResult } from '../optimize/index.js';
import { curvePrefix, type PrefixSource } from '../optimize/prefix.js';
import { OptimizePool, type PoolRunOptions } from '../workers/search-pool.js';
import type { SchedulesRepository } from '../store/types.js';
import type { JobHooks, JobOutcome, JobWork } from '../jobs/runner.js';
import { countOutcome } from '../plugins/metrics.js';
import { clientGoneError, clientGoneSignal } from './client-gone.js';
import * as contract from './contracts/optimize.js';
import { lrsOmittedNote, MAX_RESULT_LRS } from './contracts/optimize.js';
import { getLaw, type LawId } from '../laws/index.js';
import type { AnswerIntervalSource } from '../optimize/answer-interval.js';
import { intervalBasesOf } from './fit-interval-basis.js';
import { awaitJob } from '../jobs/await-job.js';
import { fullResult } from './jobs.js';
import { intervalTask } from './predict.js';

export type OptimizeBody = Omit<OptimizeInput, 'params'> & { fit?: number; law?: LawId; params?: number[]; curve?: number; interval?: number };

const DEGENERATE = 'the LR-annealing law (lra) cannot be optimized: its optimum is degenerate (it always prefers decaying to zero at once); fit the multi-power law (mpl) instead';

/** The mpl params of `fit` or `law`+`params` (400/404 naming the field); `notMpl` says why another law is refused. */
export async function resolveParams(app: FastifyInstance, fitId: number | undefined, law: LawId | undefined, params: number[] | undefined, notMpl = DEGENERATE): Promise<number[]> {
  let resolved: number[];
  if (fitId !== undefined) {
    if (law !== undefined || params !== undefined) throw badRequest('give either fit=ID or law and params, not both', 'fit');
    const fit = found(await app.store.fits.get(fitId), 'fit', fitId, 'fit');
    if (!getLaw(fit.law).optimizable) throw badRequest(`fit ${fitId} is an ${fit.law} fit: ${notMpl}`, 'fit');
    resolved = fit.params;
  } else {
    if (law === undefined) throw badRequest('give fit=ID of an mpl fit, or law: "mpl" with params', 'fit');
    if (!getLaw(law).optimizable) throw badRequest(notMpl, 'law');
    if (params === undefined) throw badRequest('law "mpl" needs params [L0, A, alpha, B, C, beta, gamma]', 'params');
    resolved = params;
  }
  return resolved;
}

/**
 * The fixed prefix of `curve: ID` (its schedule up to its last logged step, 404 for an unknown
 * curve), or the body's own `prefix`/`prefixSteps`. Shared with POST /plan-cooldown.
 */
export async function resolvePrefix(app: FastifyInstance, body: PrefixSource & { curve?: number }): Promise<PrefixSource> {
  if (body.curve === undefined) return { prefix: body.prefix, prefixSteps: body.prefixSteps };
  if (body.prefix !== undefined) throw badRequest('give either curve=ID or a prefix spec, not both', 'curve');
  if (body.prefixSteps !== undefined) throw badRequest("prefixSteps goes with a prefix spec: a curve's prefix is its schedule up to its last logged step", 'prefixSteps');
  return curvePrefix(found(await app.store.curves.get(body.curve), 'curve', body.curve, 'curve'));
}

/** An OptimizeRequestError as a 400; with a curve, a fault of its derived prefix names `curve`. */
export function requestProblem(err: OptimizeRequestError, curve: number | undefined) {
  return badRequest(err.message, curve !== undefined && err.field.startsWith('prefix') ? 'curve' : err.field);
}

/** The request with mpl params resolved from `fit` or `law`+`params` and the prefix from `curve`, validated (400/404 naming the field). */
export async function resolveOptimizeRequest(app: FastifyInstance, body: OptimizeBody): Promise<ResolvedRequest> {
  const { fit: fitId, law, params, curve, prefix, prefixSteps, interval, ...rest } = body;
  if (interval !== undefined && fitId === undefined) {
    throw badRequest(
      "a prediction interval needs a stored fit (fit=ID): it comes from the fit's parameter covariance and the data it was fitted on, which law and params do not carry; leave out interval, or fit the law first (POST /fit)",
      'interval',
    );
  }
  const resolved = await resolveParams(app, fitId, law, params);
  const fixed = await resolvePrefix(app, { curve, prefix, prefixSteps });
  const input: OptimizeInput = { ...rest, ...fixed, params: resolved };
  try {
    // The peak lr (the prefix's largest by default) and warmup as the search takes them.
    const { peakLr, warmupSteps } = normalizeRequest(input);
    return { ...input, peakLr, warmupSteps, ...(fitId !== undefined ? { fit: fitId } : {}), ...(curve !== undefined ? { curve } : {}), ...(interval !== undefined ? { interval } : {}) };
  } catch (err) {
    if (err instanceof OptimizeRequestError) throw requestProblem(err, curve);
    throw err;
  }
}

/** Store a finished search's schedule: the result with the id of its stored schedule. */
export async function storeSearchResult<R extends Pick<OptimizeResult, 'schedule' | 'predictedFinalLoss' | 'space'> & { lrs: ArrayLike<number> }>(
  schedules: SchedulesRepository,
  request: OptimizeRequest & { law?: string; fit?: number; curve?: number },
  result: R & { prefixSteps?: number },
): Promise<R & { scheduleId: number }> {
  // A prediction that overflowed is no result: nothing is stored.
  if (!Number.isFinite(result.predictedFinalLoss)) {
    throw new HttpProblem(422, 'the law predicts no finite final loss for this request (its params or lrs overflow): nothing was stored', 'params');
  }
  const schedule = await schedules.insert({
    spec: result.schedule,
    totalSteps: result.lrs.length,
    peakLr: request.peakLr,
    source: {
      law: 'mpl',
      params: request.params,
      ...(request.fit !== undefined ? { fit: request.fit } : {}),
      ...(result.prefixSteps !== undefined ? { prefixSteps: result.prefixSteps, ...(request.curve !== undefined ? { curve: request.curve } : {}) } : {}),
      space: result.space,
      predictedFinalLoss: result.predictedFinalLoss,
    },
  });
  return { ...result, scheduleId: schedule.id };
}

/** A request as `resolveOptimizeRequest` makes it (the input a search job stores; a curve's prefix as a spec; `interval` the level asked for). */
type ResolvedRequest = OptimizeRequest & { fit?: number; curve?: number; interval?: number };

/** The search's own request: without the route's fields (the interval goes to the search as its source). */
function searchRequest(resolved: ResolvedRequest): OptimizeRequest & { fit?: number; curve?: number } {
  const { interval: _level, ...request } = resolved;
  return request;
}

export default async function optimizeRoutes(app: FastifyInstance) {
  const runner = app.jobs;
  const pool = new OptimizePool();
  // A listening server starts its first worker now, so the first search does not wait for it.
  app.addHook('onListen', async () => pool.warm());
  app.addHook('onClose', async () => {
    await runner.close(); // the running search stops before its worker goes (it stays queued for the next start)
    await pool.close();
  });

  const bases = intervalBasesOf(app.store);

  /** A search, counted in the metrics by space and outcome. */
  const search = (resolved: ResolvedRequest, options: PoolRunOptions) =>
    countOutcome(app.metrics.searches, { space: resolved.space ?? 'default' }, options.signal, pool.run(searchRequest(resolved), options));

  /**
   * The interval source of a request with `interval`: its fit's interval basis (stored, or rebuilt
   * from its curves: 409 naming `fit` when they are gone) at that level, as GET /predict takes it.
   */
  const intervalSource = async (resolved: ResolvedRequest): Promise<AnswerIntervalSource | undefined> => {
    if (resolved.interval === undefined) return undefined;
    const fit = found(await app.store.fits.get(resolved.fit!), 'fit', resolved.fit!, 'fit');
    return intervalTask(bases, fit, resolved.interval);
  };

  /**
   * The work of a search job, from its resolved request (the law params in it: a job resumed after
   * a restart searches under the same params, even if their fit was deleted meanwhile) and the
   * interval source resolved when it was posted. A resumed job resolves it again; when the fit is
   * gone by then, the answer comes without the interval, and a warning says why.
   */
  const searchJob =
    (resolved: ResolvedRequest, source?: AnswerIntervalSource): JobWork =>
    async ({ signal, onProgress }: JobHooks): Promise<JobOutcome> => {
      let interval = source;
      let lost: string | undefined;
      if (!interval && resolved.interval !== undefined) {
        interval = await intervalSource(resolved).catch((error: Error) => {
          lost = `no prediction interval: the fit's interval basis is gone since the job was posted (${error.message})`;
          return undefined;
        });
      }
      const result = toResult(await search(resolved, { signal, onProgress, interval }));
      if (lost) result.warnings.push(lost);
      const stored = await storeSearchResult(app.store.schedules, resolved, result);
      const { lrs: _lrs, ...withoutLrs } = stored;
      // The done event of a long schedule leaves its lrs out, as GET /jobs/{id} does (src/routes/jobs.ts).
      const event = stored.lrs.length > MAX_RESULT_LRS ? { ...withoutLrs, lrsOmitted: lrsOmittedNote(stored.lrs.length, stored.scheduleId) } : stored;
      return { stored: withoutLrs, event: event as unknown as Record<string, unknown>, bestLoss: result.predictedFinalLoss, scheduleId: stored.scheduleId };
    };
  // Searches run one at a time, in arrival order (serial jobs).
  runner.define('optimize', { serial: true, resume: (request) => searchJob(request as unknown as ResolvedRequest) });

  app.post<{ Body: OptimizeBody; Querystring: { async?: number } }>(
    '/optimize-schedule',
    { schema: contract.optimizeSchedule },
    async (request, reply) => {
      const resolved = await resolveOptimizeRequest(app, request.body);
      const interval = await intervalSource(resolved);
      if (request.query.async === 1) {
        const jobId = await runner.start('optimize', resolved as unknown as Record<string, unknown>, searchJob(resolved, interval));
        return reply.code(202).header('location', `/jobs/${jobId}`).send({ jobId });
      }
      // A client that goes away stops its search.
      const { signal, release } = clientGoneSignal(request, reply, 'the client closed the request');
      // An API instance that runs no jobs (LRCAST_ROLE=api) has a worker search, and answers the same
      // (with its lrs, expanded here from the stored spec: up to MAX_RESULT_LRS; longer searches run
      // here, as in a single process, rather than expand millions of lrs on this event loop).
      if (runner.enqueueOnly && resolved.totalSteps <= MAX_RESULT_LRS) {
        try {
          const jobId = await runner.start('optimize', resolved as unknown as Record<string, unknown>, searchJob(resolved, interval));
          return await awaitJob(runner, jobId, signal, (job) => fullResult(app.store, job).then((r) => r ?? {}));
        } catch (error) {
          throw clientGoneError(signal, error);
        } finally {
          release();
        }
      }
      try {
        const { lrs, lrsJson, ...stored } = await storeSearchResult(app.store.schedules, resolved, await search(resolved, { signal, lrsJson: true, interval }));
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
