/** Curves: upload (JSON or CSV), list, read back (JSON or CSV), per-step schedule, delete. */
import type { FastifyInstance } from 'fastify';
import * as contract from './contracts/curves.js';
import type { Route } from './contracts/index.js';
import { formatCurveCsv, parseCurveCsv } from '../curves/csv.js';
import { ingestCurve, pointsFromJson, type CurveUpload } from '../curves/ingest.js';
import { badRequest, found, NotFoundError } from '../errors.js';
import { withLrSchedule } from '../curves/schedule.js';
import { boundedSampleSteps } from './sampled-steps.js';


export default async function curvesRoutes(app: FastifyInstance) {
  const { curves } = app.store;

  app.post<{ Querystring: CurveUpload; Body: unknown }>('/curves', { schema: contract.uploadCurve }, async (request, reply) => {
    const isCsv = (request.headers['content-type'] ?? '').toLowerCase().startsWith('text/csv');
    let created;
    if (isCsv) {
      created = await ingestCurve(curves, request.query, parseCurveCsv(request.body as string));
    } else {
      const body = request.body as (CurveUpload & { points?: unknown }) | null;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object', 'body');
      created = await ingestCurve(curves, body, pointsFromJson(body.points));
    }
    reply.code(201).header('location', `/curves/${created.id}`);
    return {
      id: created.id,
      name: created.name,
      pointCount: created.pointCount,
      firstStep: created.firstStep,
      lastStep: created.lastStep,
      schedule: created.schedule,
      plannedSchedule: created.plannedSchedule,
    };
  });

  app.get<Route<typeof contract.listCurves>>('/curves', { schema: contract.listCurves }, async (request) => {
    const { limit, offset } = request.query;
    return { ...(await curves.list(limit, offset)), limit, offset };
  });

  app.get<Route<typeof contract.getCurve>>(
    '/curves/:id',
    { schema: contract.getCurve },
    async (request, reply) => {
      const curve = found(await curves.get(request.params.id), 'curve', request.params.id);
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

  app.get<Route<typeof contract.curveSchedule>>(
    '/curves/:id/schedule',
    { schema: contract.curveSchedule },
    async (request) => {
      const curve = withLrSchedule(found(await curves.get(request.params.id), 'curve', request.params.id));
      const total = curve.lrSchedule.length;
      // Default about 1,000 values; at most MAX_EXPANDED_VALUES, as /schedules/expand.
      const steps = boundedSampleSteps(total, request.query.every, Math.max(1, Math.ceil(total / 1000)));
      return { total, steps, lrs: steps.map((s) => curve.lrSchedule[s]) };
    },
  );

  app.delete<Route<typeof contract.deleteCurve>>('/curves/:id', { schema: contract.deleteCurve }, async (request, reply) => {
    if (!(await curves.delete(request.params.id))) throw new NotFoundError('curve', request.params.id);
    return reply.code(204).send();
  });
}
