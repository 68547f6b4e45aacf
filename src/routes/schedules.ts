/** Schedule grammar endpoint: expand a spec to its per-step learning rates. */
import type { FastifyInstance } from 'fastify';
import { expandSchedule, sampleSteps } from '../schedule/expand.js';
import { parseSchedule, formatSchedule } from '../schedule/spec.js';
import * as contract from './contracts/schedules.js';
import type { Route } from './contracts/index.js';

export default async function scheduleRoutes(app: FastifyInstance) {
  app.get<Route<typeof contract.expandSchedule>>(
    '/schedules/expand',
    { schema: contract.expandSchedule },
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
