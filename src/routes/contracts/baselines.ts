/** Contract of GET /baselines: the reference schedules of the optimize answer, for a stored fit and a run shape. */
import { json, problem } from './common.js';
import { BASELINE_FOUR, MAX_STEPS } from './optimize.js';

export const baselinesQuery = {
  type: 'object',
  required: ['fit', 'totalSteps', 'peakLr', 'warmupSteps'],
  properties: {
    fit: { type: 'integer', minimum: 1, description: 'A stored mpl fit (an lra fit: 400 naming `fit`, as POST /optimize-schedule).' },
    totalSteps: { type: 'integer', minimum: 2, maximum: MAX_STEPS, description: 'Steps of the run (as OptimizeRequest.totalSteps).' },
    peakLr: { type: 'number', exclusiveMinimum: 0, description: 'Peak lr, at most 1 (as OptimizeRequest.peakLr).' },
    warmupSteps: { type: 'integer', minimum: 0, description: 'Linear warmup steps; at most totalSteps - 2 (as OptimizeRequest.warmupSteps).' },
  },
} as const;

export const BaselineSet = {
  type: 'object',
  required: ['fit', 'totalSteps', 'peakLr', 'warmupSteps', 'baselines'],
  properties: {
    fit: { type: 'integer' },
    totalSteps: { type: 'integer' },
    peakLr: { type: 'number' },
    warmupSteps: { type: 'integer' },
    baselines: {
      type: 'object',
      description: "The same four as OptimizeResult.baselines for this fit and run (equal values): cosine to peak/10, linear to 0, constant, and the best WSD over decay fractions 5%..50% and shapes exp, linear, sqrt. Each is named by its `schedule` spec.",
      ...BASELINE_FOUR,
    },
  },
} as const;

export const getBaselines = {
  summary: 'The reference schedules (and their predicted final losses) of a run under a fit.',
  description:
    'The baselines POST /optimize-schedule answers beside its optimized schedule (src/optimize/baselines.ts), without a search:\n' +
    'the same fields, validation and limits as the optimize request (400 naming the field). The dashboard names and compares them\n' +
    'by their `schedule` spec. They are evaluated in float64 over every step (33 full-length law evaluations: about 0.1 s at 24,000\n' +
    'steps, about 6 s at the limit of about 1.2M steps: beyond it a 400 naming `totalSteps`) on a worker thread, dropped if the client\n' +
    'leaves; repeated requests are answered from a cache. POST /optimize-schedule answers the baselines of longer runs.\n',
  tags: ['optimize'],
  querystring: baselinesQuery,
  'x-response': { 200: json('The baselines.', BaselineSet), 400: problem, 401: problem, 404: problem },
} as const;
