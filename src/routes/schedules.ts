/** Schedule grammar endpoint: expand a spec to its per-step learning rates. */
import type { FastifyInstance } from 'fastify';
import { lrsAtSteps } from '../schedule/expand.js';
import { checkInlineExpansion } from '../schedule/cost.js';
import { parseSchedule, formatSchedule } from '../schedule/spec.js';
import * as contract from './contracts/schedules.js';
import { boundedSampleSteps } from './sampled-steps.js';
import type { Route } from './contracts/index.js';

export default async function scheduleRoutes(app: FastifyInstance) {
  app.get<Route<typeof contract.expandSchedule>>(
    '/schedules/expand',
    { schema: contract.expandSchedule },
    async (request) => {
      const spec = parseSchedule(request.query.schedule);
      // Closed forms are evaluated at the sampled steps only; an expr is expanded whole, so it is bounded.
      checkInlineExpansion(spec);
      // Default: every step, thinned to at most MAX_EXPANDED_VALUES for very long runs.
      const steps = boundedSampleSteps(spec.total, request.query.every, 1);
      return { schedule: formatSchedule(spec), total: spec.total, steps, lrs: Array.from(lrsAtSteps(spec, steps)) };
    },
  );
}
