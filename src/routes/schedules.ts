/** Schedule grammar endpoint: expand a spec to its per-step learning rates. */
import type { FastifyInstance } from 'fastify';
import { lrsAtSteps, sampleSteps } from '../schedule/expand.js';
import { checkInlineExpansion } from '../schedule/cost.js';
import { parseSchedule, formatSchedule } from '../schedule/spec.js';
import { badRequest } from '../errors.js';
import * as contract from './contracts/schedules.js';
import { MAX_EXPANDED_VALUES } from './contracts/schedules.js';
import type { Route } from './contracts/index.js';

export default async function scheduleRoutes(app: FastifyInstance) {
  app.get<Route<typeof contract.expandSchedule>>(
    '/schedules/expand',
    { schema: contract.expandSchedule },
    async (request) => {
      const spec = parseSchedule(request.query.schedule);
      // Closed forms are evaluated at the sampled steps only; an expr is expanded whole, so it is bounded.
      checkInlineExpansion(spec);
      // Default: every step, thinned to at most MAX_EXPANDED_VALUES for very long runs; a given `every` must fit too.
      const fewest = Math.max(1, Math.ceil(spec.total / MAX_EXPANDED_VALUES));
      const every = request.query.every ?? fewest;
      if (every < fewest) {
        throw badRequest(`every=${every} over ${spec.total} steps gives more than ${MAX_EXPANDED_VALUES} values in an answer: give every=${fewest} or more`, 'every');
      }
      const steps = sampleSteps(spec.total, every);
      return { schedule: formatSchedule(spec), total: spec.total, steps, lrs: Array.from(lrsAtSteps(spec, steps)) };
    },
  );
}
