/** Schedule grammar endpoint: expand a spec to its per-step learning rates. */
import type { FastifyInstance } from 'fastify';
import { expandSchedule, sampleSteps } from '../schedule/expand.js';
import { parseSchedule, formatSchedule } from '../schedule/spec.js';

export default async function scheduleRoutes(app: FastifyInstance) {
  app.get<{ Querystring: { schedule: string; every?: number } }>(
    '/schedules/expand',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['schedule'],
          properties: { schedule: { type: 'string' }, every: { type: 'integer', minimum: 1 } },
        },
      },
    },
    async (request) => {
      const spec = parseSchedule(request.query.schedule);
      const lrs = expandSchedule(spec);
      // Default: every step, thinned to at most ~100,000 values for very long runs.
      const every = request.query.every ?? Math.max(1, Math.ceil(lrs.length / 100_000));
      const steps = sampleSteps(lrs.length, every);
      return { schedule: formatSchedule(spec), total: lrs.length, steps, lrs: steps.map((s) => lrs[s]) };
    },
  );
}
