/**
 * Fits: fit a law to stored curves (report with metrics), list, read, delete. POST /fit answers 201
 * with the stored fit, or with `?async=1` 202 `{jobId}` (progress at /jobs/{id} and /jobs/{id}/events).
 */
import type { FastifyInstance } from 'fastify';
import { idParams, pageQuery } from './schemas.js';
import { FIT_DEFAULTS, type CurveFitMetrics, type FitCurve, type FitReport } from '../fit/index.js';
import { FitInputError, inapplicableOption } from '../fit/options.js';
import { FitPool, type FitRunHooks } from '../workers/fit-pool.js';
import { clientGoneError, clientGoneSignal } from './client-gone.js';
import { getCurveWithSchedule } from '../store/curves.js';
import { deleteFit, getFit, insertFit, listFits, type StoredFit } from '../store/fits.js';
import { HttpProblem } from '../errors.js';
import type { LawId } from '../laws/law.js';
import { jobRunner } from '../optimize/runner.js';
import type { Db } from '../store/db.js';


/** Fit options; each is described in openapi.yaml (FitOptions). */
export const fitOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    fromStep: { type: 'integer', minimum: 0 },
    maxPoints: { type: 'integer', minimum: 10 },
    lambda: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    seed: { type: 'integer' },
    starts: { type: 'integer', minimum: 1, maximum: 10000 },
    maxIterations: { type: 'integer', minimum: 1, maximum: 100000 },
    leaveOneOut: { type: 'boolean' },
    method: { type: 'string', enum: ['adam', 'converged'] },
    adamIterations: { type: 'integer', minimum: 1, maximum: 100000 },
    adamLearningRate: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    adamSpace: { type: 'string', enum: ['log', 'raw'] },
    curveWeighting: { type: 'string', enum: ['points', 'equal'] },
    huberDelta: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

const fitBody = {
  type: 'object',
  required: ['curveIds', 'law'],
  additionalProperties: false,
  properties: {
    curveIds: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: { type: 'integer', minimum: 1 } },
    law: { type: 'string', enum: ['mpl', 'lra'] },
    options: fitOptionsSchema,
  },
} as const;

const fitQuery = {
  type: 'object',
  properties: { async: { type: 'integer', enum: [0, 1] } },
} as const;

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
function requestCurves(db: Db, curveIds: number[]): FitCurve[] {
  return curveIds.map((id, i) => {
    const curve = getCurveWithSchedule(db, id, `curveIds[${i}]`);
    return { id, name: curve.name, lrs: curve.lrSchedule, steps: Array.from(curve.points.steps), loss: Array.from(curve.points.losses) };
  });
}

interface RunHooks extends FitRunHooks {
  /** False once the fit's job has ended without it (cancelled, server stopping): then nothing is stored. */
  isCurrent?: () => boolean;
}

/** Fit on the pool and store the fit; the API view of the stored fit. */
async function runAndStore(db: Db, fitPool: FitPool, body: FitRequest, curves: FitCurve[], hooks: RunHooks = {}) {
  const { curveIds, law } = body;
  const options = body.options ?? {};
  let report: FitReport;
  let text: string;
  try {
    ({ report, text } = await fitPool.run({ law, curves, options }, hooks));
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
  const stored = insertFit(db, {
    law,
    curveIds,
    options,
    params: report.params.map((p) => p.value),
    maxLr,
    maxSteps,
    report: { ...reportView(report), text },
  });
  return fitView(stored);
}

const perCurve = (list: CurveFitMetrics[]) => list.map(({ id, name, metrics }) => ({ curveId: id, name, ...metrics }));

/** The report as the API shows it: `metrics: {perCurve, mean}`, `leaveOneOut: {perCurve, mean} | null`. */
function reportView(report: FitReport) {
  const { curves, mean, leaveOneOut, law: _law, ...rest } = report;
  return {
    ...rest,
    metrics: { perCurve: perCurve(curves), mean },
    leaveOneOut: leaveOneOut ? { perCurve: perCurve(leaveOneOut.curves), mean: leaveOneOut.mean } : null,
  };
}

/** The API view of a stored fit: its report plus what it was fitted on. */
export function fitView(fit: StoredFit) {
  return { id: fit.id, law: fit.law, curveIds: fit.curveIds, options: fit.options, createdAt: fit.createdAt, ...fit.report };
}

export default async function fitRoutes(app: FastifyInstance) {
  const { db } = app;
  // Fits run on a pool of worker threads: a multi-second fit must not stall other requests or job streams.
  const fitPool = new FitPool();
  const runner = jobRunner(db);
  app.addHook('onClose', async () => {
    runner.failTracked('server stopped'); // fit jobs fail before their workers go (and store nothing)
    await fitPool.close();
  });

  app.post<{ Body: FitRequest; Querystring: { async?: number } }>('/fit', { schema: { body: fitBody, querystring: fitQuery } }, async (request, reply) => {
    const refused = inapplicableOption(request.body.law, request.body.options ?? {}, FIT_DEFAULTS.method);
    if (refused) throw new HttpProblem(400, refused.message, refused.field);
    const curves = requestCurves(db, request.body.curveIds);
    if (request.query.async === 1) {
      const jobId = runner.track('fit', request.body as unknown as Record<string, unknown>, async (hooks) => {
        const fit = await runAndStore(db, fitPool, request.body, curves, hooks);
        return { stored: { fitId: fit.id }, event: fit };
      });
      return reply.code(202).header('location', `/jobs/${jobId}`).send({ jobId });
    }
    // A client that goes away stops its fit.
    const { signal, release } = clientGoneSignal(request, reply, 'the client closed the request');
    try {
      const fit = await runAndStore(db, fitPool, request.body, curves, { signal });
      reply.code(201).header('location', `/fits/${fit.id}`);
      return fit;
    } catch (error) {
      throw clientGoneError(signal, error);
    } finally {
      release();
    }
  });

  app.get<{ Querystring: { limit: number; offset: number } }>(
    '/fits',
    {
      schema: {
        querystring: pageQuery,
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const { items, total } = listFits(db, limit, offset);
      return { items: items.map(fitView), total, limit, offset };
    },
  );

  app.get<{ Params: { id: number } }>('/fits/:id', { schema: { params: idParams } }, async (request) =>
    fitView(getFit(db, request.params.id)),
  );

  app.delete<{ Params: { id: number } }>('/fits/:id', { schema: { params: idParams } }, async (request, reply) => {
    deleteFit(db, request.params.id);
    return reply.code(204).send();
  });
}
