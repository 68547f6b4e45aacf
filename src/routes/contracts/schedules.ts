/** Contracts of the schedules: expanding a spec, listing and exporting the stored (optimized) schedules. */
import { idParams, json, page, pageQuery, problem } from './common.js';

/** The most lrs in one answer of /schedules/expand or /curves/{id}/schedule (about 2 MB of JSON). */
export const MAX_EXPANDED_VALUES = 100_000;

export const expandSchedule = {
  summary: 'Expand a schedule spec to per-step learning rates.',
  tags: ['schedules'],
  querystring: {
    type: 'object',
    required: ['schedule'],
    properties: {
      schedule: { type: 'string', description: 'A schedule spec (see the top of this document).', examples: ['cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5'] },
      every: {
        type: 'integer',
        minimum: 1,
        description: 'Every N-th step plus the last (default 1, thinned to about 100,000 values for longer runs). An answer holds at most 100,000 values: a smaller every over a longer schedule is a 400 naming the every that fits. An expr schedule is expanded whole here, so at most about 250 ms of its work: 400 on total beyond.',
      },
    },
  },
  'x-response': {
    200: json('Sampled per-step learning rates.', {
      allOf: [
        { $ref: 'SampledSchedule#' },
        { type: 'object', required: ['schedule'], properties: { schedule: { type: 'string', description: 'The spec in canonical form.' } } },
      ],
    }),
    400: problem,
  },
} as const;

/** GET /schedules/{id} as JSON. */
export const StoredSchedule = {
  type: 'object',
  required: ['id', 'spec', 'totalSteps', 'peakLr', 'createdAt', 'source', 'lrs'],
  properties: {
    id: { type: 'integer' },
    spec: { type: 'string', description: 'Piecewise spec; expands exactly to lrs.' },
    totalSteps: { type: 'integer' },
    peakLr: { type: 'number' },
    createdAt: { type: 'string' },
    source: { type: 'object', description: 'What produced it: the optimization request (fit or params, space, ...).' },
    lrs: { type: 'array', items: { type: 'number' } },
  },
} as const;

/** A stored schedule in GET /schedules: as GET /schedules/{id} without its per-step lrs. */
export const StoredScheduleSummary = {
  type: 'object',
  required: ['id', 'spec', 'totalSteps', 'peakLr', 'createdAt', 'source'],
  properties: {
    id: StoredSchedule.properties.id,
    spec: StoredSchedule.properties.spec,
    totalSteps: StoredSchedule.properties.totalSteps,
    peakLr: StoredSchedule.properties.peakLr,
    createdAt: StoredSchedule.properties.createdAt,
    source: StoredSchedule.properties.source,
  },
} as const;

export const listSchedules = {
  summary: 'List the stored (optimized) schedules, newest first.',
  description: 'Every optimizer result is stored; this lists them without their per-step lrs (export one at /schedules/{id}).',
  tags: ['schedules'],
  querystring: pageQuery,
  'x-response': { 200: json('A page of stored schedules.', page(StoredScheduleSummary)) },
} as const;

export const exportSchedule = {
  summary: 'Export a stored (optimized) schedule.',
  tags: ['schedules'],
  params: idParams,
  querystring: {
    type: 'object',
    properties: { format: { type: 'string', enum: ['json', 'csv', 'pytorch'], default: 'json' } },
  },
  'x-response': {
    200: {
      description: 'json: spec and per-step lrs; csv: `step,lr`; pytorch: a Python snippet for `torch.optim.lr_scheduler.LambdaLR`.',
      content: {
        'application/json': { schema: StoredSchedule },
        'text/csv': { schema: { type: 'string' } },
        'text/x-python': { schema: { type: 'string' } },
      },
    },
    404: problem,
  },
} as const;
