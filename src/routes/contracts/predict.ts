/** Contract of GET /predict and POST /predict (the same parameters in a JSON body): the loss curve a law predicts for a schedule. */
import { LAW_IDS } from '../../laws/ids.js';
import { LAW_OPTIONS, lawsWithOption } from '../../laws/index.js';
import { MAX_ANSWER_POINTS, MAX_PREDICTION_US } from '../../predict/budget.js';
import { MAX_HEADER_BYTES } from '../../plugins/problem.js';
import { json, problem } from './common.js';

/** Largest POST /predict body: room for long specs and step lists, far below the upload limit. */
export const PREDICT_BODY_LIMIT = 4 * 1024 * 1024;

const maxPoints = MAX_ANSWER_POINTS.toLocaleString('en-US');

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
    steps: { type: 'string', description: `Comma-separated steps, answered in the order given (repeats kept); at most ${maxPoints}.` },
    every: {
      type: 'integer',
      minimum: 1,
      description: `Every N-th step plus the last, at most ${maxPoints} points. Default about 500 evenly spaced steps plus the last. Both leave out the steps with S(s) = 0.`,
    },
    interval: {
      type: 'number',
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description:
        'Coverage level of a prediction interval (e.g. 0.8 or 0.95): adds `lower` and `upper` beside `loss`, in `final`, and `interval`. Needs a stored fit (`fit`; with `law` + `params` a 400 naming `interval`).',
      examples: [0.8],
    },
  },
} as const;

/** A bound of a prediction interval at each step (with `interval`). */
const bounds = (which: string) =>
  ({ type: 'array', items: { type: ['number', 'null'] }, description: `${which} bound of the interval at each step (with \`interval\`); null where the loss is.` }) as const;

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
    lower: bounds('Lower'),
    upper: bounds('Upper'),
    final: {
      type: 'object',
      required: ['step', 'loss'],
      properties: {
        step: { type: 'integer' },
        loss: { type: ['number', 'null'] },
        lower: { type: ['number', 'null'], description: 'With `interval`.' },
        upper: { type: ['number', 'null'], description: 'With `interval`.' },
      },
    },
    interval: {
      type: 'object',
      description: 'With `interval`: the level, the multiplier k of the log-error scale, and how the interval is made (README: Prediction intervals).',
      required: ['level', 'multiplier', 'calibrated', 'method'],
      properties: {
        level: { type: 'number' },
        multiplier: { type: 'number', description: 'k(level): the interval is loss x exp(+-k sigma).' },
        calibrated: { type: 'boolean', description: 'False for fits other than mpl with method map: the constants were calibrated on those (a warning says so).' },
        method: { type: 'string' },
      },
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
    "Parameters from a stored fit (`fit`) or given directly (`law` + `params`, e.g. the\npublished ones). The schedule from a spec (`schedule`) or a stored curve (`curve`, then\nthe prediction is made at its logged steps by default and `metrics` compares it with the\nobserved points). `final` is always the prediction at the schedule's last step.\nWarnings flag extrapolation beyond a fit: a peak lr above the largest lr it saw, or a\nschedule over 4x its longest curve; and any step whose predicted loss is not finite. The\ndefault steps (and `every`) leave out the steps before any lr was applied (S(s) = 0, e.g.\nstep 0 of a warmup from 0), where the laws predict an infinite loss. `params` must lie in\nthe law's domain (mpl: L0, A, B, gamma >= 0 and alpha, C, beta > 0; lra: L0, A, C >= 0\nand alpha > 0), else 400.\n" +
    `\n**Limits.** An answer has at most ${maxPoints} predicted points (and, with \`curve\`, at most ${maxPoints} observed ones),\n` +
    `and one prediction's estimated computation (per schedule step and per predicted point, in the law's cost terms) at most\n` +
    `${MAX_PREDICTION_US / 1e6} s of one core: over either, 400 naming the field to change (\`every\`, \`steps\`, \`schedule\` or \`curve\`), the\n` +
    'limit and the value that fits (a larger `every`, fewer steps, a shorter schedule). Predictions of more than a few ms run\n' +
    'on worker threads; answers to repeated requests come from a cache. A spec too long for a URL can be sent to `POST /predict`.\n' +
    '\n**Intervals.** `interval=0.8` (any level in (0, 1)) with a stored fit adds `lower` and `upper` beside `loss` and in `final`:\n' +
    "the prediction x exp(+-k sigma), sigma from the fit's parameter covariance plus a model error growing with the schedule's\n" +
    'distance from the fitted schedules (steps beyond the longest fitted one, another shape, a peak lr outside the fitted peaks),\n' +
    "calibrated on the transfer benchmark's held-out runs (README, Prediction intervals, for its coverage). Warnings name the\n" +
    'extrapolations that widen it. A fit stored before intervals existed gets what they need rebuilt from its curves on first use;\n' +
    'if they were deleted, 409 naming `fit`. With `law` + `params`: 400 naming `interval`.\n',
  tags: ['predict'],
  querystring: predictQuery,
  'x-response': { 200: json('Predicted curve.', { $ref: 'Prediction#' }), 400: problem, 404: problem, 409: problem },
} as const;

/** POST /predict: the query's parameters as a JSON object (strict types: numbers as numbers), e.g. for a 1000-knot piecewise spec. */
export const predictBody = { ...predictQuery, additionalProperties: false } as const;

export const predictPost = {
  summary: 'Predict the loss curve of a schedule (parameters in the body).',
  description:
    'GET /predict with its parameters in a JSON body instead of the query string, for schedules too long for a URL\n' +
    `(the request line and headers may take ${MAX_HEADER_BYTES / 1024} KiB). Same answer, same limits; the body may take ${PREDICT_BODY_LIMIT / 1024 / 1024} MiB.\n` +
    'Types are strict: `fit`, `curve` and `every` are JSON integers, `interval` a JSON number, `params` and `steps` comma-separated strings as in the query.\n',
  tags: ['predict'],
  body: predictBody,
  'x-response': { 200: json('Predicted curve.', { $ref: 'Prediction#' }), 400: problem, 404: problem, 409: problem, 413: problem },
} as const;
