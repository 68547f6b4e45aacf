/** Curves: upload (JSON or CSV), list, read back (JSON or CSV), per-step schedule, delete. */
import type { FastifyInstance } from 'fastify';
import { idParams, pageQuery } from './schemas.js';
import { formatCurveCsv, parseCurveCsv } from '../curves/csv.js';
import { ingestCurve, pointsFromJson, type CurveUpload } from '../curves/ingest.js';
import { deleteCurve, getCurve, getCurveWithSchedule, listCurves } from '../store/curves.js';
import { sampleSteps } from '../schedule/expand.js';
import { badRequest } from '../errors.js';


const uploadQuery = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    schedule: { type: 'string' },
    warmupSteps: { type: 'integer', minimum: 0 },
  },
} as const;


export default async function curvesRoutes(app: FastifyInstance) {
  const { db } = app;

  app.post<{ Querystring: CurveUpload; Body: unknown }>('/curves', { schema: { querystring: uploadQuery } }, async (request, reply) => {
    const isCsv = (request.headers['content-type'] ?? '').toLowerCase().startsWith('text/csv');
    let created;
    if (isCsv) {
      created = ingestCurve(db, request.query, parseCurveCsv(request.body as string));
    } else {
      const body = request.body as (CurveUpload & { points?: unknown }) | null;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object', 'body');
      created = ingestCurve(db, body, pointsFromJson(body.points));
    }
    reply.code(201).header('location', `/curves/${created.id}`);
    return {
      id: created.id,
      name: created.name,
      pointCount: created.pointCount,
      firstStep: created.firstStep,
      lastStep: created.lastStep,
      schedule: created.schedule,
    };
  });

  app.get<{ Querystring: { limit: number; offset: number } }>('/curves', { schema: { querystring: pageQuery } }, async (request) => {
    const { limit, offset } = request.query;
    return { ...listCurves(db, limit, offset), limit, offset };
  });

  app.get<{ Params: { id: number }; Querystring: { format?: 'json' | 'csv' } }>(
    '/curves/:id',
    {
      schema: {
        params: idParams,
        querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'csv'] } } },
      },
    },
    async (request, reply) => {
      const curve = getCurve(db, request.params.id);
      if (request.query.format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="curve-${curve.id}.csv"`)
          .send(formatCurveCsv(curve.points));
      }
      const { steps, losses, lrs } = curve.points;
      const points = new Array(steps.length);
      for (let i = 0; i < steps.length; i++) {
        points[i] = lrs && !Number.isNaN(lrs[i]!) ? { step: steps[i], loss: losses[i], lr: lrs[i] } : { step: steps[i], loss: losses[i] };
      }
      const { points: _columns, ...head } = curve;
      return reply.type('application/json').send(JSON.stringify({ ...head, points }));
    },
  );

  app.get<{ Params: { id: number }; Querystring: { every?: number } }>(
    '/curves/:id/schedule',
    {
      schema: {
        params: idParams,
        querystring: { type: 'object', properties: { every: { type: 'integer', minimum: 1 } } },
      },
    },
    async (request) => {
      const curve = getCurveWithSchedule(db, request.params.id);
      const total = curve.lrSchedule.length;
      const steps = sampleSteps(total, request.query.every ?? Math.max(1, Math.ceil(total / 1000)));
      return { total, steps, lrs: steps.map((s) => curve.lrSchedule[s]) };
    },
  );

  app.delete<{ Params: { id: number } }>('/curves/:id', { schema: { params: idParams } }, async (request, reply) => {
    deleteCurve(db, request.params.id);
    return reply.code(204).send();
  });
}
