/** Contracts of jobs (optimizations, and fits started with `POST /fit?async=1`). */
import { idParams, json, problem } from './common.js';

export const Job = {
  $id: 'Job',
  type: 'object',
  required: ['id', 'kind', 'status', 'progress', 'bestLoss', 'error', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: ['optimize', 'fit'] },
    status: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'], description: 'queued, running, then done, failed or cancelled (DELETE /jobs/{id}; `error` is then `cancelled`).' },
    progress: { type: 'number', minimum: 0, maximum: 1 },
    bestLoss: { type: ['number', 'null'], description: 'Best predicted final loss so far (optimize jobs; null for fits).' },
    result: {
      description:
        'When done: the optimization result (kind optimize), or the stored fit as GET /fits/{id} answers (kind fit; only `{fitId}` once that fit is deleted).',
      anyOf: [
        { $ref: 'OptimizeResult#' },
        { $ref: 'Fit#' },
        { type: 'object', required: ['fitId'], properties: { fitId: { type: 'integer' } } },
      ],
    },
    error: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

export const getJob = {
  summary: 'Status, progress and result of a job (an optimization, or a fit started with async=1).',
  tags: ['jobs'],
  params: idParams,
  'x-response': { 200: json('The job.', { $ref: 'Job#' }), 404: problem },
} as const;

export const cancelJob = {
  summary: 'Cancel a job that has not ended.',
  description:
    "A queued job, a running fit or a running optimization ends with the status `cancelled` and the\nerror `cancelled` (a fit's worker tasks are stopped; an optimization stops at its next iteration,\nwhich the answer waits for). Listeners of `/jobs/{id}/events` get the `cancelled` event. Nothing is stored.\n",
  tags: ['jobs'],
  params: idParams,
  'x-response': {
    200: json('The job, now cancelled (status and error `cancelled`).', { $ref: 'Job#' }),
    202: json(
      'Cancel requested, but the job had not stopped within 10 s (a step the search does not interrupt, such as starting its backend); it ends cancelled when it does.',
      { $ref: 'Job#' },
    ),
    401: problem,
    404: problem,
    409: { ...problem, description: 'The job has already ended (done, failed or cancelled), or it is not running in this server.' },
  },
} as const;

export const jobEvents = {
  summary: 'Server-sent events of a job.',
  description:
    'Events: `progress` (data `{progress, bestLoss, iteration}` for an optimization, `{progress}` for a fit: its main fit only), then `done` (data: the result, i.e. the optimization result or the stored fit, whose leave-one-out may still be pending: see POST /fit), `failed` (data `{error}`) or `cancelled` (data `{error}`: the cancel\'s reason, `cancelled`); the stream then closes.',
  tags: ['jobs'],
  params: idParams,
  'x-response': { 200: { description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 404: problem },
} as const;
