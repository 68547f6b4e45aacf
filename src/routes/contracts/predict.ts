/** Contract of GET /predict: the loss curve a law predicts for a schedule. */
import { LAW_IDS } from '../../laws/ids.js';
import { LAW_OPTIONS, lawsWithOption } from '../../laws/index.js';
import { json, problem } from './common.js';

export const predictQuery = {
  type: 'object',
  properties: {
    fit: { type: 'integer', minimum: 1, description: 'A stored fit (or give law and params).' },
    law: { type: 'string', enum: LAW_IDS },
    params: {
      type: 'string',
      description: "Comma-separated values in the law's order; mpl: L0,A,alpha,B,C,beta,gamma; lra: L0,A,alpha,C.",
      examples: ['2.6514477,0.60115152,0.45295811,437.9464276,2.13245612,0.59785199,0.65523644'],
    },
    // The laws' options (lra: lambda), validated by each option's schema.
    ...Object.fromEntries(
      LAW_OPTIONS.map((o) => [
        o.name,
        { ...o.schema, description: `${lawsWithOption(o.name).join(', ')} only (400 with the other laws): ${o.summary} (default ${o.default}, or the fit's).` },
      ]),
    ),
    schedule: { type: 'string', description: 'A schedule spec (or give curve).' },
    curve: { type: 'integer', minimum: 1, description: 'A stored curve: its schedule, and metrics against its points (or give schedule).' },
    steps: { type: 'string', description: 'Comma-separated steps, answered in the order given (repeats kept).' },
    every: {
      type: 'integer',
      minimum: 1,
      description: 'Every N-th step plus the last. Default about 500 evenly spaced steps plus the last. Both leave out the steps with S(s) = 0.',
    },
  },
} as const;

export const Prediction = {
  $id: 'Prediction',
  type: 'object',
  required: ['law', 'params', 'schedule', 'totalSteps', 'steps', 'loss', 'final', 'warnings'],
  properties: {
    law: { type: 'string', enum: LAW_IDS },
    params: { type: 'object', additionalProperties: { type: 'number' } },
    fit: { type: 'integer' },
    schedule: { type: ['string', 'null'] },
    totalSteps: { type: 'integer' },
    steps: { type: 'array', items: { type: 'integer' } },
    loss: {
      type: 'array',
      items: { type: ['number', 'null'] },
      description:
        'Predicted loss at each step; null where it is not finite (before any lr was applied, S(s) = 0, or params that do not suit the schedule), with a warning.',
    },
    final: {
      type: 'object',
      required: ['step', 'loss'],
      properties: { step: { type: 'integer' }, loss: { type: ['number', 'null'] } },
    },
    warnings: { type: 'array', items: { type: 'string' } },
    curve: { type: 'integer' },
    observed: {
      type: 'object',
      required: ['steps', 'loss'],
      properties: { steps: { type: 'array', items: { type: 'integer' } }, loss: { type: 'array', items: { type: 'number' } } },
    },
    metrics: { $ref: 'Metrics#' },
  },
} as const;

export const predict = {
  summary: 'Predict the loss curve of a schedule.',
  description:
    "Parameters from a stored fit (`fit`) or given directly (`law` + `params`, e.g. the\npublished ones). The schedule from a spec (`schedule`) or a stored curve (`curve`, then\nthe prediction is made at its logged steps by default and `metrics` compares it with the\nobserved points). `final` is always the prediction at the schedule's last step.\nWarnings flag extrapolation beyond a fit: a peak lr above the largest lr it saw, or a\nschedule over 4x its longest curve; and any step whose predicted loss is not finite. The\ndefault steps (and `every`) leave out the steps before any lr was applied (S(s) = 0, e.g.\nstep 0 of a warmup from 0), where the laws predict an infinite loss. `params` must lie in\nthe law's domain (mpl: L0, A, B, gamma >= 0 and alpha, C, beta > 0; lra: L0, A, C >= 0\nand alpha > 0), else 400.\n",
  tags: ['predict'],
  querystring: predictQuery,
  'x-response': { 200: json('Predicted curve.', { $ref: 'Prediction#' }), 400: problem, 404: problem },
} as const;
