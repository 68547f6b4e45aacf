/**
 * Fits: fit a law to stored curves (report with metrics), list, read, delete. POST /fit answers 201
 * with the stored fit, or with `?async=1` 202 `{jobId}` (progress at /jobs/{id} and /jobs/{id}/events),
 * as soon as the main fit is stored: its leave-one-out metrics are computed in the background and
 * the stored fit is updated then (`leaveOneOut.status` pending, then done or failed; poll GET /fits/{id}).
 * Every fit is stored with its interval basis (what /predict's intervals need, computed on the fit's
 * worker beside the report); the fits' reads leave it out (fit-interval-basis.ts serves it).
 */
import type { FastifyInstance } from 'fastify';
import * as contract from './contracts/fits.js';
import type { Route } from './contracts/index.js';
import {
  attachLeaveOneOut,
  formatReport,
  leaveOneOutStatusText,
  wantsLeaveOneOut,
  type CurveFitMetrics,
  type FitCurve,
  type FitReport,
  type LeaveOneOutStatus,
} from '../fit/index.js';
import { FitInputError, inapplicableOption } from '../fit/options.js';
import { FitPool, type FitRunHooks, type LeaveOneOutRun } from '../workers/fit-pool.js';
import type { JobWork } from '../jobs/runner.js';
import { awaitJob } from '../jobs/await-job.js';
import { fullResult } from './jobs.js';
import { countOutcome } from '../plugins/metrics.js';
import { clientGoneError, clientGoneSignal } from './client-gone.js';
import type { CurvesRepository, FitsRepository, StoredFit } from '../store/types.js';
import { found, HttpProblem, NotFoundError } from '../errors.js';
import { getLaw, type LawId } from '../laws/index.js';
import type { IntervalBasis } from '../predict/interval-basis.js';
import { fitCurveOf, IntervalBases, provideIntervalBases } from './fit-interval-basis.js';


interface FitRequest {
  curveIds: number[];
  law: LawId;
  options?: Record<string, unknown>;
}

/** The request field of a fit input error: the fit's `curves[i]` are the request's `curveIds[i]`. */
function requestField(field: string): string {
  return field.replace(/^curves/, 'curveIds');
}

/** The curves of a request, read with their per-step schedules (404/400 naming `curveIds[i]`). */
async function requestCurves(curves: CurvesRepository, curveIds: number[]): Promise<FitCurve[]> {
  const out: FitCurve[] = [];
  for (const [i, id] of curveIds.entries()) out.push(fitCurveOf(id, found(await curves.get(id), 'curve', id, `curveIds[${i}]`)));
  return out;
}

interface RunHooks extends FitRunHooks {
  /** False once the fit's job has ended without it (cancelled, server stopping): then nothing is stored. */
  isCurrent?: () => boolean;
}

/**
 * Where a fit's leave-one-out metrics stand: null when not run (one curve, or `leaveOneOut: false`),
 * pending while the folds run in the background, done (the metrics are in the report), or failed.
 */
type LeaveOneOutState = null | { status: 'pending' } | { status: 'done' } | { status: 'failed'; error: string };

/** A fold's held-out metrics with the share of its points inside the fold's 80% prediction interval. */
type FoldMetrics = CurveFitMetrics & { metrics: CurveFitMetrics['metrics'] & { coverage80?: number } };

/** The folds' metrics with their 80% interval coverage where a fold has one. */
function withCoverage(folds: CurveFitMetrics[], coverage: (number | null)[]): FoldMetrics[] {
  return folds.map((fold, i) => {
    const c = coverage[i];
    return c === null || c === undefined ? fold : { ...fold, metrics: { ...fold.metrics, coverage80: c } };
  });
}

const percent = (v: number) => `${(100 * v).toFixed(1)}%`;

/** The report's note on the folds' interval coverage (it reaches the text through the notes). */
function coverageNote(folds: FoldMetrics[]): string {
  const each = folds.map((f) => `${f.name} ${f.metrics.coverage80 === undefined ? 'n/a' : percent(f.metrics.coverage80)}`).join(', ');
  const mean = meanCoverage(folds);
  return `leave-one-curve-out 80% prediction intervals (the fold's fit and its interval basis) cover ${each} of the held-out points${mean === undefined ? '' : `; mean ${percent(mean)}`}`;
}

/** The folds' mean coverage (each curve the same), when every fold has one. */
function meanCoverage(folds: FoldMetrics[]): number | undefined {
  const values = folds.map((f) => f.metrics.coverage80);
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Leave-one-out folds running in the background, by fit id, with the main fit's report they complete.
 * The stored fit is updated when they end; deleting the fit cancels them; closing fails them.
 */
class BackgroundLeaveOneOut {
  private readonly running = new Map<number, { run: LeaveOneOutRun; report: FitReport }>();

  constructor(private readonly fits: FitsRepository) {}

  /** Follow the folds of stored fit `id` (whose report says pending) and write their outcome. */
  start(id: number, report: FitReport, run: LeaveOneOutRun): void {
    const entry = { run, report };
    this.running.set(id, entry);
    // Only the entry still current writes: a deleted fit (cancelled) or a closed server (failed already) gets nothing.
    const current = () => this.running.get(id) === entry && this.running.delete(id);
    Promise.all([run.done, run.coverage80])
      .then(
        async ([folds, coverage]) => {
          if (!current()) return;
          attachLeaveOneOut(report, withCoverage(folds, coverage));
          if (coverage.some((c) => c !== null)) report.notes.push(coverageNote(report.leaveOneOut!.curves));
          await this.fits.updateReport(id, reportView(report, { status: 'done' }));
        },
        async (error: Error) => {
          if (current()) await this.fits.updateReport(id, reportView(report, { status: 'failed', error: error.message || String(error) }));
        },
      )
      .catch((err: unknown) => process.emitWarning(`fit ${id}: could not store its leave-one-out metrics: ${(err as Error).message ?? err}`));
  }

  /** Stop the folds of fit `id`, if any run (the fit was deleted): nothing more is written for it. */
  cancel(id: number, reason: Error): void {
    const entry = this.running.get(id);
    if (!entry) return;
    this.running.delete(id);
    entry.run.cancel(reason);
  }

  /** Stop every fold; their fits are stored as failed with `reason`. */
  async failAll(reason: string): Promise<void> {
    const writes: Promise<boolean>[] = [];
    for (const [id, { run, report }] of [...this.running]) {
      this.running.delete(id);
      writes.push(this.fits.updateReport(id, reportView(report, { status: 'failed', error: reason })));
      run.cancel(new Error(reason));
    }
    await Promise.all(writes);
  }
}

/**
 * On start: fits left with leave-one-out pending by a process that ended without closing (a crash)
 * are marked failed with `reason` (a server that closes marks its own). Returns how many.
 */
async function failPendingLeaveOneOut(fits: FitsRepository, reason: string): Promise<number> {
  const pending = await fits.withPendingLeaveOneOut();
  const failed: LeaveOneOutStatus = { status: 'failed', error: reason };
  for (const fit of pending) {
    const text = typeof fit.report.text === 'string' ? fit.report.text.replace(leaveOneOutStatusText({ status: 'pending' }), leaveOneOutStatusText(failed)) : fit.report.text;
    await fits.updateReport(fit.id, { ...fit.report, leaveOneOut: failed, text });
  }
  return pending.length;
}

/**
 * Fit on the pool and store the fit; the API view of the stored fit. The leave-one-out folds (when the
 * request wants them) start once the fit is stored, in the background: the fit says pending until then.
 */
async function runAndStore(fits: FitsRepository, fitPool: FitPool, background: BackgroundLeaveOneOut, body: FitRequest, curves: FitCurve[], hooks: RunHooks = {}) {
  const { curveIds, law } = body;
  const options = body.options ?? {};
  const request = { law, curves, options };
  let report: FitReport;
  let intervalBasis: IntervalBasis | null;
  try {
    ({ report, basis: intervalBasis } = await fitPool.runWithBasis(request, hooks));
  } catch (error) {
    // The fit refuses input it cannot use (no usable points, an option it would ignore).
    if (error instanceof FitInputError) throw new HttpProblem(400, error.message, requestField(error.field));
    if (error instanceof RangeError) throw new HttpProblem(400, error.message, 'curveIds');
    throw error;
  }
  let maxLr = 0;
  let maxSteps = 0;
  for (const c of curves) {
    for (const lr of c.lrs) if (lr > maxLr) maxLr = lr;
    maxSteps = Math.max(maxSteps, c.lrs.length);
  }
  if (hooks.isCurrent && !hooks.isCurrent()) throw new Error('the fit job ended before the fit was stored');
  const leaveOneOut = wantsLeaveOneOut(request);
  const stored = await fits.insert({
    law,
    curveIds,
    options,
    params: report.params.map((p) => p.value),
    maxLr,
    maxSteps,
    report: reportView(report, leaveOneOut ? { status: 'pending' } : null),
    intervalBasis,
  });
  if (leaveOneOut) background.start(stored.id, report, fitPool.leaveOneOut(request));
  return fitView(stored);
}

const perCurve = (list: CurveFitMetrics[]) => list.map(({ id, name, metrics }) => ({ curveId: id, name, ...metrics }));

/** The folds' metrics as shown: per curve (with coverage80 where computed) and their mean (with the mean coverage80 when every fold has one). */
function foldsView(folds: FoldMetrics[], mean: CurveFitMetrics['metrics']) {
  const coverage80 = meanCoverage(folds);
  return { perCurve: perCurve(folds), mean: coverage80 === undefined ? mean : { ...mean, coverage80 } };
}

/**
 * The report as the API stores and shows it: `metrics: {perCurve, mean}`, `leaveOneOut` (null,
 * `{status: 'pending'}`, `{status: 'done', perCurve, mean}` or `{status: 'failed', error}`) and `text`.
 */
function reportView(report: FitReport, state: LeaveOneOutState) {
  const { curves, mean, leaveOneOut, law: _law, ...rest } = report;
  const pendingOrFailed = state && state.status !== 'done' ? state : undefined;
  return {
    ...rest,
    metrics: { perCurve: perCurve(curves), mean },
    leaveOneOut: state?.status === 'done' && leaveOneOut ? { status: 'done', ...foldsView(leaveOneOut.curves, leaveOneOut.mean) } : (pendingOrFailed ?? null),
    text: formatReport(report, pendingOrFailed),
  };
}

/** The API view of a stored fit: its report plus what it was fitted on. */
export function fitView(fit: StoredFit) {
  // Fits stored before leave-one-out ran in the background have its metrics without a status.
  const loo = fit.report.leaveOneOut as Record<string, unknown> | null | undefined;
  const report = loo && !('status' in loo) ? { ...fit.report, leaveOneOut: { status: 'done', ...loo } } : fit.report;
  return { id: fit.id, law: fit.law, optimizable: getLaw(fit.law).optimizable, curveIds: fit.curveIds, options: fit.options, createdAt: fit.createdAt, ...report };
}

export default async function fitRoutes(app: FastifyInstance) {
  const { fits, curves } = app.store;
  // Fits run on a pool of worker threads: a multi-second fit must not stall other requests or job streams.
  const fitPool = new FitPool();
  provideIntervalBases(app.store, new IntervalBases(app.store, fitPool));
  const runner = app.jobs;
  const background = new BackgroundLeaveOneOut(fits);
  // Only a process alone on its store may fail what another left pending (others sharing it may be computing theirs).
  const leftPending = runner.exclusive ? await failPendingLeaveOneOut(fits, 'server restarted') : 0;
  if (leftPending > 0) app.log.warn(`${leftPending} fit(s) left with leave-one-out pending by the previous process: marked failed`);
  app.addHook('onClose', async () => {
    await runner.close(); // fit jobs stop before their workers go (stored nothing; they stay queued for the next start)
    await background.failAll('server stopped'); // stored fits whose leave-one-out was running say so
    await fitPool.close();
  });

  /** A fit, stored, counted in the metrics by law and outcome. */
  const fitAndStore = (body: FitRequest, fitCurves: FitCurve[], hooks: RunHooks) =>
    countOutcome(app.metrics.fits, { law: body.law }, hooks.signal, runAndStore(fits, fitPool, background, body, fitCurves, hooks));

  /**
   * The work of a fit job: the fit of `body` on `fitCurves`, or, for a job resumed after a restart,
   * on its curves read again (checked again: a curve deleted meanwhile fails the job, naming it).
   * The job is done once the main fit is stored; its leave-one-out completes in the background.
   */
  const fitJob =
    (body: FitRequest, fitCurves?: FitCurve[]): JobWork =>
    async ({ onStart, onProgress, isCurrent, signal }) => {
      const refused = fitCurves ? undefined : inapplicableOption(body.law, body.options ?? {});
      if (refused) throw new HttpProblem(400, refused.message, refused.field);
      const hooks = { onStart, onProgress: (fraction: number) => onProgress({ progress: fraction }), isCurrent, signal };
      const fit = await fitAndStore(body, fitCurves ?? (await requestCurves(curves, body.curveIds)), hooks);
      return { stored: { fitId: fit.id }, event: fit };
    };
  runner.define('fit', { resume: (request) => fitJob(request as unknown as FitRequest) });

  app.post<{ Body: FitRequest; Querystring: { async?: number } }>('/fit', { schema: contract.createFit }, async (request, reply) => {
    const refused = inapplicableOption(request.body.law, request.body.options ?? {});
    if (refused) throw new HttpProblem(400, refused.message, refused.field);
    const fitCurves = await requestCurves(curves, request.body.curveIds);
    if (request.query.async === 1) {
      const jobId = await runner.start('fit', request.body as unknown as Record<string, unknown>, fitJob(request.body, fitCurves));
      return reply.code(202).header('location', `/jobs/${jobId}`).send({ jobId });
    }
    // A client that goes away stops its fit (the main fit: once stored, the fit completes without it).
    const { signal, release } = clientGoneSignal(request, reply, 'the client closed the request');
    try {
      // An API instance that runs no jobs (LRCAST_ROLE=api) has a worker fit it, and answers the same.
      const fit = runner.enqueueOnly
        ? ((await awaitJob(runner, await runner.start('fit', request.body as unknown as Record<string, unknown>), signal, (job) => fullResult(app.store, job).then((r) => r ?? {}))) as { id: number })
        : await fitAndStore(request.body, fitCurves, { signal });
      reply.code(201).header('location', `/fits/${fit.id}`);
      return fit;
    } catch (error) {
      throw clientGoneError(signal, error);
    } finally {
      release();
    }
  });

  app.get<Route<typeof contract.listFits>>(
    '/fits',
    { schema: contract.listFits },
    async (request) => {
      const { limit, offset } = request.query;
      const { items, total } = await fits.list(limit, offset);
      return { items: items.map(fitView), total, limit, offset };
    },
  );

  app.get<Route<typeof contract.getFit>>('/fits/:id', { schema: contract.getFit }, async (request) =>
    fitView(found(await fits.get(request.params.id), 'fit', request.params.id)),
  );

  app.delete<Route<typeof contract.deleteFit>>('/fits/:id', { schema: contract.deleteFit }, async (request, reply) => {
    if (!(await fits.delete(request.params.id))) throw new NotFoundError('fit', request.params.id);
    background.cancel(request.params.id, new Error('the fit was deleted'));
    return reply.code(204).send();
  });
}
