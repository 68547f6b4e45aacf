/** Contract of POST /optimize-schedule: the schedule with the lowest predicted final loss. */
import { LAW_IDS } from '../../laws/ids.js';
import { asyncQuery, jobAccepted, json, problem } from './common.js';

/** The most steps of a schedule (MAX_TOTAL_STEPS of src/schedule/spec.ts; a test checks they agree). */
export const MAX_STEPS = 10_000_000;

/**
 * An async search's result (GET /jobs/{id}, its `done` event) carries its per-step lrs up to this many
 * steps (about 2 MB of JSON); longer ones leave them out (`lrsOmitted` says where to get them), since
 * every poll would expand and serialize millions of numbers.
 */
export const MAX_RESULT_LRS = 100_000;

/** The `lrsOmitted` of a result whose schedule is over MAX_RESULT_LRS steps: where its lrs are. */
export const lrsOmittedNote = (steps: number, scheduleId: number | null) =>
  `the schedule has ${steps} steps (over ${MAX_RESULT_LRS}): its lrs are left out; GET /schedules/${scheduleId}?format=csv gives them`;

export const OptimizeRequest = {
  $id: 'OptimizeRequest',
  type: 'object',
  required: ['totalSteps', 'peakLr', 'warmupSteps'],
  additionalProperties: false,
  description:
    'Unknown properties are rejected (400 naming the property). Give either `fit` or `law` with `params`, not both. A fixed prefix (`curve`, or `prefix` with `prefixSteps`) is the learning rates a run has already used: kept exactly, the search plans only the steps after them, while the law is evaluated over the whole run (prefix included), so the predicted losses account for its history.',
  properties: {
    fit: { type: 'integer', minimum: 1, description: 'A stored mpl fit (or give law and params).' },
    law: { type: 'string', enum: LAW_IDS, description: 'mpl (lra cannot be optimized: 400).' },
    params: {
      type: 'array',
      items: { type: 'number' },
      description: 'mpl [L0, A, alpha, B, C, beta, gamma] (7 values), all finite with magnitude below 1e6; A, B, gamma >= 0 and alpha, C, beta > 0 (400 naming `params[i]`).',
    },
    totalSteps: { type: 'integer', minimum: 2, maximum: MAX_STEPS, description: 'Steps of the whole run (the budget), a fixed prefix included.' },
    peakLr: {
      type: 'number',
      exclusiveMinimum: 0,
      description: 'At most 1 (an lr above 1 is not a learning rate anyone trains with). With a prefix, every prefix lr must lie in [0, peakLr] too.',
    },
    warmupSteps: {
      type: 'integer',
      minimum: 0,
      description:
        'Must leave at least 2 steps after the warmup (warmupSteps <= totalSteps - 2). With a prefix it is not used (the prefix holds its own warmup; give 0 or the warmup it had) and may not exceed the prefix.',
    },
    curve: {
      type: 'integer',
      minimum: 1,
      description:
        "A stored curve whose schedule up to its last logged step is the fixed prefix (its spec, or the schedule rebuilt from its logged lrs). Not with `prefix`. A fault of that prefix (too long for totalSteps, an lr above peakLr, a last lr of 0) is a 400 naming `curve`.",
    },
    prefix: {
      type: 'string',
      description:
        "A schedule spec whose first `prefixSteps` steps have run: those lrs are fixed. Each must lie in [0, peakLr], the last one > 0 when monotone (the rest continues from it), and the prefix must leave at least 2 steps of totalSteps (400 naming `prefix`, `prefix.<key>` for a spec error, or `prefixSteps`). With `monotone`, the rest never rises above the prefix's last lr, and minLr and finalLr may not exceed it.",
    },
    prefixSteps: { type: 'integer', minimum: 1, maximum: MAX_STEPS, description: "Steps of `prefix` that have run (default the spec's whole length); at most totalSteps - 2." },
    minLr: { type: 'number', minimum: 0, description: 'Lower bound of every post-warmup lr; at most peakLr. Default 0.' },
    finalLr: { type: 'number', minimum: 0, description: "Pin the last step's lr (free when absent); must lie in [minLr, peakLr]." },
    space: {
      type: 'string',
      enum: ['free', 'piecewise', 'wsd'],
      description: "Default free. After a prefix every space searches the steps after it; `wsd` continues at the prefix's last lr with the decay start free anywhere after the prefix.",
    },
    pieces: { type: 'integer', minimum: 1, maximum: 1000, description: 'Default 16.' },
    monotone: {
      type: 'boolean',
      description:
        'Default true. false lets the lr rise after the warmup. The law was fitted on non-increasing schedules and rewards lr oscillations without bound, so the search charges every rise B x its size; answers are then non-increasing or nearly so. A warning counts any rises in the answer, whose predicted loss is an extrapolation.',
    },
    restarts: { type: 'integer', minimum: 1, maximum: 1024, description: 'Default 64.' },
    interval: {
      type: 'number',
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description:
        'Coverage level of a prediction interval (e.g. 0.8 or 0.95): the answer adds `predictedFinalInterval`, `curve.lower`/`curve.upper` and `lower`/`upper` of each baseline, made as GET /predict makes its interval (README: Prediction intervals). Needs a stored fit (`fit`; with `law` + `params` a 400 naming `interval`; a fit stored before intervals whose curves were deleted: 409 naming `fit`).',
      examples: [0.8],
    },
    budgetMs: {
      type: 'integer',
      minimum: 100,
      maximum: 600000,
      description:
        'Default 10000. Wall-clock budget of the search, from its start (a queued job waits outside it). It includes the float64 baselines (33 full-length law evaluations, about 0.15 us per step each: milliseconds at 24,000 steps, about 4 s at 2,000,000), so for very long runs a small budget leaves the search little or no time (a warning says so) and the answer can come after the budget.',
    },
  },
  examples: [
    {
      law: 'mpl',
      params: [2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644],
      totalSteps: 24000,
      peakLr: 0.0003,
      warmupSteps: 2160,
    },
  ],
} as const;

export const Baseline = {
  $id: 'Baseline',
  type: 'object',
  required: ['schedule', 'loss'],
  properties: {
    schedule: { type: 'string' },
    loss: { type: 'number' },
    lower: { type: ['number', 'null'], description: "With `interval`: the lower bound of `loss` at that level (null where the loss has none: not a finite positive number)." },
    upper: { type: ['number', 'null'], description: 'With `interval`: its upper bound.' },
  },
} as const;

/** The four baselines of a run, each a Baseline (OptimizeResult.baselines and GET /baselines answer the same set). */
export const BASELINE_FOUR = {
  required: ['cosine', 'linear', 'wsd', 'constant'],
  properties: {
    cosine: { $ref: 'Baseline#' },
    linear: { $ref: 'Baseline#' },
    wsd: { $ref: 'Baseline#' },
    constant: { $ref: 'Baseline#' },
  },
} as const;

export const OptimizeResult = {
  $id: 'OptimizeResult',
  type: 'object',
  required: ['schedule', 'scheduleId', 'lrs', 'predictedFinalLoss', 'curve', 'space', 'baselines', 'improvement', 'backend', 'iterations', 'wallMs', 'warnings'],
  properties: {
    schedule: { type: 'string', description: 'Piecewise spec that expands exactly to `lrs`.' },
    scheduleId: { type: 'integer', description: 'Export at /schedules/{id}.' },
    lrs: { type: 'array', items: { type: 'number' }, description: 'Per-step lr, length totalSteps.' },
    predictedFinalLoss: { type: 'number' },
    predictedFinalInterval: {
      type: 'object',
      description:
        'With `interval`: the prediction interval of `predictedFinalLoss` at that level, equal to `final.lower`/`final.upper` of GET /predict?fit=&schedule=&interval= for `schedule`. Null bounds where the loss is not a finite positive number (a warning says so).',
      required: ['level', 'lower', 'upper'],
      properties: { level: { type: 'number' }, lower: { type: ['number', 'null'] }, upper: { type: ['number', 'null'] } },
    },
    curve: {
      type: 'object',
      description:
        'Predicted loss at about 500 steps, from the first step with a positive lr sum (step 1 with a warmup: the law is infinite at step 0) to the last step; with `interval`, its bounds beside it.',
      required: ['steps', 'loss'],
      properties: {
        steps: { type: 'array', items: { type: 'integer' } },
        loss: { type: 'array', items: { type: 'number' } },
        lower: { type: 'array', items: { type: ['number', 'null'] }, description: 'With `interval`: lower bound at each step (same length as `loss`).' },
        upper: { type: 'array', items: { type: ['number', 'null'] }, description: 'With `interval`: upper bound at each step.' },
      },
    },
    space: { type: 'string', enum: ['free', 'piecewise', 'wsd'] },
    familySchedule: { type: 'string', description: 'space wsd only, without a prefix: the wsd-family spec that `schedule` copies (within 1e-4 x peakLr per step).' },
    prefixSteps: { type: 'integer', description: 'With a fixed prefix: its length; `lrs` and `schedule` reproduce its lrs exactly.' },
    restSchedule: {
      type: 'string',
      description: "space wsd after a prefix: the wsd-family spec of the steps after it (its step 0 is step prefixSteps), starting at the prefix's last lr; `schedule` copies it within 1e-4 x peakLr per step.",
    },
    baselines: {
      type: 'object',
      description:
        "Reference schedules under the same law and constraints. After a prefix each keeps the prefix and its `schedule` is the spec of the steps after it (step 0 = step prefixSteps), starting from the prefix's last lr.",
      ...BASELINE_FOUR,
    },
    improvement: {
      type: 'object',
      required: ['vsCosine', 'vsBestBaseline', 'vsCosineRelative', 'vsBestBaselineRelative'],
      properties: {
        vsCosine: { type: 'number', description: 'Baseline loss minus optimized loss (positive is better).' },
        vsBestBaseline: { type: 'number' },
        vsCosineRelative: { type: 'number', description: '(cosine loss - optimized loss) / cosine loss (positive is better).' },
        vsBestBaselineRelative: { type: 'number', description: '(best baseline loss - optimized loss) / best baseline loss.' },
      },
    },
    backend: { type: 'string', enum: ['node-gpu', 'wasm', 'cpu'], description: 'TensorFlow.js backend used: node-gpu (@tensorflow/tfjs-node-gpu), wasm or cpu.' },
    iterations: { type: 'integer' },
    wallMs: { type: 'number' },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const optimizeSchedule = {
  summary: 'Search for the schedule with the lowest predicted final loss.',
  description:
    "Batched projected Adam in TensorFlow.js over many candidates at once (restarts), in one of\nthree spaces. The answer's `predictedFinalLoss` is recomputed in float64 by the law engine\non the exact per-step schedule returned, so it equals `GET /predict` for `schedule`.\nOnly `mpl` can be optimized (the LR-annealing law's optimum is degenerate: `law: lra` is\na 400). Searches run on worker threads, so a long one does not hold up other requests. With\n`async=1` the answer is 202 with a job id; follow it at `/jobs/{id}` or `/jobs/{id}/events`.\n",
  tags: ['optimize'],
  querystring: asyncQuery,
  body: { $ref: 'OptimizeRequest#' },
  'x-response': {
    200: json('The optimized schedule.', { $ref: 'OptimizeResult#' }),
    202: jobAccepted,
    400: problem,
    401: problem,
    404: problem,
  },
} as const;
