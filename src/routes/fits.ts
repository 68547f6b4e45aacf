/** Fits: fit a law to stored curves (report with metrics), list, read, delete. */
import type { FastifyInstance } from 'fastify';
import { idParams, pageQuery } from './schemas.js';
import type { CurveFitMetrics, FitCurve, FitReport } from '../fit/index.js';
import { FitPool } from '../workers/fit-pool.js';
import { getCurveWithSchedule } from '../store/curves.js';
import { deleteFit, getFit, insertFit, listFits, type StoredFit } from '../store/fits.js';
import { HttpProblem } from '../errors.js';
import type { LawId } from '../laws/law.js';


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

interface FitRequest {
  curveIds: number[];
  law: LawId;
  options?: Record<string, unknown>;
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
  // Fits run on a worker thread: a multi-second fit must not stall other requests or job streams.
  const fitPool = new FitPool();
  app.addHook('onClose', () => fitPool.close());

  app.post<{ Body: FitRequest }>('/fit', { schema: { body: fitBody } }, async (request, reply) => {
    const { curveIds, law } = request.body;
    const options = request.body.options ?? {};
    const curves: FitCurve[] = curveIds.map((id, i) => {
      const curve = getCurveWithSchedule(db, id, `curveIds[${i}]`);
      return { id, name: curve.name, lrs: curve.lrSchedule, steps: Array.from(curve.points.steps), loss: Array.from(curve.points.losses) };
    });
    let report: FitReport;
    let text: string;
    try {
      ({ report, text } = await fitPool.run({ law, curves, options }));
    } catch (error) {
      // fitLaw throws RangeError for curves it cannot use (e.g. no usable points after fromStep).
      if (error instanceof RangeError) throw new HttpProblem(400, error.message, 'curveIds');
      throw error;
    }
    let maxLr = 0;
    let maxSteps = 0;
    for (const c of curves) {
      for (const lr of c.lrs) if (lr > maxLr) maxLr = lr;
      maxSteps = Math.max(maxSteps, c.lrs.length);
    }
    const stored = insertFit(db, {
      law,
      curveIds,
      options,
      params: report.params.map((p) => p.value),
      maxLr,
      maxSteps,
      report: { ...reportView(report), text },
    });
    reply.code(201).header('location', `/fits/${stored.id}`);
    return fitView(stored);
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
