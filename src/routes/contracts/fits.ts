/** Contracts of the fits resource: fit a law to stored curves, list, read, delete. */
import { LAW_IDS } from '../../laws/ids.js';
import { LAW_FIT_METHODS, LAW_OPTIONS, lawsWithOption } from '../../laws/index.js';
import { asyncQuery, idParams, jobAccepted, json, noContent, page, pageQuery, problem } from './common.js';

/** The laws' options (lra: lambda), as request properties validated by each option's schema. */
export const lawOptionSchemas = Object.fromEntries(
  LAW_OPTIONS.map((o) => [o.name, { ...o.schema, description: `${lawsWithOption(o.name).join(', ')} only: ${o.summary}, default ${o.default}.` }]),
);

/** Fit options. The laws' own options come from the registry. */
export const FitOptions = {
  $id: 'FitOptions',
  type: 'object',
  additionalProperties: false,
  properties: {
    fromStep: { type: 'integer', minimum: 0, description: 'Ignore points before this step.' },
    maxPoints: {
      type: 'integer',
      minimum: 10,
      description: "Per curve; denser curves are bin-averaged down to this many points (see the report's notes).",
    },
    ...lawOptionSchemas,
    seed: {
      type: 'integer',
      description: 'Seed of the sampled global start (mpl method converged only; lra starts from a fixed grid and refuses it).',
    },
    starts: {
      type: 'integer',
      minimum: 1,
      maximum: 10000,
      description: 'Sampled global starting points (mpl method converged only; lra refuses it).',
    },
    maxIterations: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      description:
        'Levenberg-Marquardt iterations per refined start (mpl methods converged and map: default 200; lra: default 500, over all its Huber reweighting rounds). Not for mpl methods adam and reference.',
    },
    leaveOneOut: {
      type: 'boolean',
      description:
        'Leave-one-curve-out metrics, computed in the background after the fit is answered (default true with 2+ curves; with one curve none, and a note says so).',
    },
    method: {
      type: 'string',
      enum: LAW_FIT_METHODS,
      description:
        "mpl only. map (default): the reference's simplified-model start (L0 + A*S1^-alpha - B*(peak - lr) from a grid of 135 starts), then Levenberg-Marquardt to convergence on the Huber objective plus a weak Gaussian prior on log C, beta and gamma (centres from the published 25M/100M fits, in units of the curves' peak lr; weight priorWeight); chosen on the transfer benchmark (npm run bench:fit-selection). adam (the default before map): projected Adam (in log-parameters unless adamSpace is raw) from the reference-style initial guess for a fixed budget (early stopping regularizes). converged: global start + Levenberg-Marquardt to the optimum of the objective, no prior (fits training curves closest, transfers worst on the benchmark). Every method but reference works in relative units (see units). reference: the published reference procedure reproduced exactly (the simplified model L0 + A*S1^-alpha - B*(peak - lr) fitted from a grid of 135 starts, then AdamW with its fixed step sizes for at most 200 iterations, stopped after 20 without a new minimum; summed Huber over every raw point): gives the published params (within 1e-4 relative on the 25M and 100M fixtures) and test table. Its constants are fixed, so starts, seed, maxIterations, adamIterations, adamLearningRate, adamSpace, priorWeight, curveWeighting, huberDelta, maxPoints and bounds are refused with it (400 naming the option). map refuses starts, seed and the adam options.",
    },
    adamIterations: { type: 'integer', minimum: 1, maximum: 100000, description: 'mpl method adam only. Default 800.' },
    adamLearningRate: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'mpl method adam only. Default 0.01.' },
    adamSpace: {
      type: 'string',
      enum: ['log', 'raw'],
      description: 'mpl method adam only. Where adam steps: log of the positive params (relative steps), or the params as they are. Default log.',
    },
    curveWeighting: {
      type: 'string',
      enum: ['points', 'equal'],
      description:
        "points: every point weighs the same; equal: each curve's points averaged, then summed over curves. Default equal for map and adam, points for converged; not for reference.",
    },
    huberDelta: { type: 'number', exclusiveMinimum: 0, description: 'Huber delta on log residuals. Default 0.001.' },
    units: {
      type: 'string',
      enum: ['relative', 'absolute'],
      description:
        "'relative' (default for every method but reference): the fit works with the lrs in units of the curves' peak lr (every lr multiplied by 3e-4 / peak) and the losses in units of their lowest value (every loss multiplied by 3 / lowest), and converts the params back, so its predictions do not depend on those units: every lr x 10 gives the same predictions, every loss x 10 predictions x 10. 'absolute' (default of method reference): the procedure's start grid, step sizes and bounds apply to the values as given, as in the published reference procedure.",
    },
    priorWeight: {
      type: 'number',
      minimum: 0,
      maximum: 1e9,
      description:
        "mpl method map only: weight of the prior on the loss-drop shape, in points of the fit's residual scale (0: no prior). Default 1, chosen on the transfer benchmark.",
    },
  },
} as const;

/** POST /fit body. */
export const fitBody = {
  type: 'object',
  required: ['curveIds', 'law'],
  additionalProperties: false,
  properties: {
    curveIds: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: { type: 'integer', minimum: 1 } },
    law: { type: 'string', enum: LAW_IDS },
    options: { $ref: 'FitOptions#' },
  },
  examples: [{ curveIds: [3, 1, 8], law: 'mpl' }],
} as const;

export const Metrics = {
  $id: 'Metrics',
  type: 'object',
  required: ['r2', 'mae', 'rmse', 'predE', 'worstE', 'points'],
  properties: {
    r2: { type: 'number' },
    mae: { type: 'number' },
    rmse: { type: 'number' },
    predE: { type: 'number', description: 'mean |pred-obs|/obs' },
    worstE: { type: 'number', description: 'max |pred-obs|/obs' },
    points: { type: 'integer', description: 'Points the metrics are computed over.' },
  },
} as const;

/** Leave-one-out only: how often the held-out curve fell inside the fold's 80% prediction interval. */
const coverage80 = {
  type: 'number',
  description:
    "Leave-one-out only: the share of the held-out curve's points inside the 80% prediction interval of the fold's fit (the fit on the other curves; GET /predict's `interval=0.8`). Absent where it could not be computed.",
} as const;

export const CurveMetrics = {
  $id: 'CurveMetrics',
  allOf: [
    { $ref: 'Metrics#' },
    { type: 'object', required: ['curveId', 'name'], properties: { curveId: { type: 'integer' }, name: { type: 'string' }, coverage80 } },
  ],
} as const;

export const FitParam = {
  type: 'object',
  required: ['name', 'value', 'stderr'],
  properties: {
    name: { type: 'string' },
    value: { type: 'number' },
    stderr: { type: ['number', 'null'], description: 'From the Jacobian at the optimum.' },
    min: { type: 'number' },
    max: { type: 'number' },
  },
} as const;

export const Fit = {
  $id: 'Fit',
  type: 'object',
  required: ['id', 'law', 'optimizable', 'curveIds', 'options', 'createdAt', 'params', 'objective', 'iterations', 'wallMs', 'converged', 'points', 'metrics', 'leaveOneOut', 'notes', 'text'],
  properties: {
    id: { type: 'integer' },
    law: { type: 'string', enum: LAW_IDS },
    optimizable: { type: 'boolean', description: "Whether POST /optimize-schedule and GET /baselines take this fit (the law's own `optimizable`: mpl yes, lra no)." },
    curveIds: { type: 'array', items: { type: 'integer' } },
    options: { $ref: 'FitOptions#' },
    createdAt: { type: 'string', format: 'date-time' },
    params: { type: 'array', items: FitParam },
    objective: { type: 'number' },
    iterations: { type: 'integer' },
    wallMs: { type: 'number', description: 'Wall time of the main fit (leave-one-out left out).' },
    converged: {
      type: 'boolean',
      description:
        'True when the fit procedure ended normally with finite values: Levenberg-Marquardt met its convergence test (lra, mpl methods map and converged), mpl method reference stopped by its own rule, or mpl method adam, which stops early by design and is not at the optimum, ran its whole step budget. False: the best point found is returned, flagged (and a note says so).',
    },
    points: {
      type: 'object',
      description: 'Points that entered the fit (after fromStep and validity filters) and points given.',
      required: ['used', 'given'],
      properties: { used: { type: 'integer' }, given: { type: 'integer' } },
    },
    metrics: {
      type: 'object',
      required: ['perCurve', 'mean'],
      properties: { perCurve: { type: 'array', items: { $ref: 'CurveMetrics#' } }, mean: { $ref: 'Metrics#' } },
    },
    leaveOneOut: {
      type: ['object', 'null'],
      description:
        'Leave-one-curve-out metrics: null when not computed (one curve, or `leaveOneOut: false`); `{status: pending}` while the folds run in the background after the fit was answered; `{status: done, perCurve, mean}` when they are done (the notes and `text` then include them; each curve with `coverage80`, its points\' share inside the fold\'s 80% prediction interval); `{status: failed, error}` when a fold failed or was stopped (`server stopped`, `server restarted`). Poll GET /fits/{id} until it is no longer pending.',
      required: ['status'],
      properties: {
        status: { type: 'string', enum: ['pending', 'done', 'failed'] },
        perCurve: { type: 'array', items: { $ref: 'CurveMetrics#' }, description: 'When done.' },
        mean: {
          allOf: [{ $ref: 'Metrics#' }, { type: 'object', properties: { coverage80: { ...coverage80, description: 'The mean of the folds\' coverage80, when every fold has one.' } } }],
          description: 'When done.',
        },
        error: { type: 'string', description: 'When failed: why.' },
      },
    },
    notes: { type: 'array', items: { type: 'string' }, description: 'Preprocessing and convergence notes.' },
    text: { type: 'string', description: 'A readable report (its leave-one-out section says pending or failed until the metrics are there).' },
  },
} as const;

export const createFit = {
  summary: 'Fit a law to stored curves.',
  description:
    "Objective: Huber (delta 1e-3) of `log(observed) - log(predicted)` over the points of the\nchosen curves. mpl by default: method map (the reference's start, then Levenberg-Marquardt\nunder a weak prior on the loss-drop shape; see FitOptions.method); lra: Levenberg-Marquardt.\nEvery method but reference fits in relative units (see FitOptions.units), so predictions do\nnot depend on the units of the lrs or of the loss. Deterministic for a given input. With two or more curves the fit also\ngets leave-one-curve-out metrics (fit on the others, predict the one left out), computed in\nthe background: the fit is stored and answered as soon as the main fit is done, with\n`leaveOneOut: {status: pending}`; its folds then run on the same pool of worker threads (one\nper core, at most 4), side by side, and the stored fit is updated when they end (`status:\ndone` with the metrics, or `failed`). Poll `GET /fits/{id}` to see it complete. A later fit's\nmain fit starts before the queued folds of earlier fits (a running fold is not interrupted).\nDeleting the fit stops its folds; a server that stops marks them failed (`server stopped`),\nand one that starts marks any left pending by a crash failed (`server restarted`). A fit that\ndoes not converge is returned with `converged: false`, never an error. Options the chosen law and method would ignore are refused (400 naming them, e.g.\n`options.lambda` on mpl, `options.maxIterations` with method adam, `options.adamIterations`\non lra or with method reference), as are unknown body or option properties (400 naming the property). With `async=1` the answer is 202 with a job id (the curves are checked first, so bad\nids still answer 404); follow its progress at `/jobs/{id}` or `/jobs/{id}/events`. The job\nis done (progress 1) when the main fit is stored: its `done` event carries the stored fit with\nleave-one-out still pending; the job's `result` (and a stream opened later) shows the fit as\nstored now.\n",
  tags: ['fits'],
  querystring: asyncQuery,
  body: fitBody,
  'x-response': {
    201: json('The stored fit and its report (leave-one-out pending when it was asked for).', { $ref: 'Fit#' }),
    202: jobAccepted,
    400: problem,
    401: problem,
    404: problem,
  },
} as const;

export const listFits = {
  summary: 'List fits, newest first.',
  tags: ['fits'],
  querystring: pageQuery,
  'x-response': { 200: json('A page of fits.', page({ $ref: 'Fit#' })) },
} as const;

export const getFit = {
  summary: 'A fit with its report.',
  tags: ['fits'],
  params: idParams,
  'x-response': { 200: json('The fit.', { $ref: 'Fit#' }), 404: problem },
} as const;

export const deleteFit = {
  summary: 'Delete a fit.',
  description: 'Leave-one-out folds of the fit still running are stopped; nothing more is written for it.',
  tags: ['fits'],
  params: idParams,
  'x-response': { 204: noContent, 401: problem, 404: problem },
} as const;
