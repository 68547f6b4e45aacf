/** Contract of POST /plan-cooldown: when to start the cooldown of a run in a constant-lr phase, and how long and of what shape it should be. */
import { json, problem } from './common.js';
import { MAX_STEPS } from './optimize.js';

const SHAPES = ['exp', 'linear', 'cosine', 'sqrt'] as const;

const numbers = (description: string, items: object = { type: 'number' }) => ({ type: 'array', items, minItems: 1, maxItems: 256, description }) as const;

export const PlanCooldownRequest = {
  type: 'object',
  required: ['totalSteps'],
  additionalProperties: false,
  description:
    'The run so far (`curve`, or `prefix` with `prefixSteps`), the law (`fit`, or `law: "mpl"` with `params`) and the budget (`totalSteps`). Unknown properties are rejected (400 naming the property).',
  properties: {
    fit: { type: 'integer', minimum: 1, description: 'A stored mpl fit (or give law and params).' },
    law: { type: 'string', enum: ['mpl', 'lra'], description: 'mpl (the planner evaluates the multi-power law; lra: 400).' },
    params: { type: 'array', items: { type: 'number' }, description: 'mpl [L0, A, alpha, B, C, beta, gamma] (7 values).' },
    curve: { type: 'integer', minimum: 1, description: "A stored curve: its schedule up to its last logged step is the run so far (faults of it are a 400 naming `curve`). Not with `prefix`." },
    prefix: { type: 'string', description: 'A schedule spec whose first `prefixSteps` steps have run (e.g. `constant:peak=1e-3,warmup=300,total=50000`).' },
    prefixSteps: { type: 'integer', minimum: 1, maximum: MAX_STEPS, description: "Steps of `prefix` that have run (default the spec's whole length): `now`." },
    totalSteps: { type: 'integer', minimum: 3, maximum: MAX_STEPS, description: 'The budget: the most steps the run may have; at least now + 2.' },
    interval: {
      type: 'number',
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      description:
        "Coverage level (e.g. 0.8 or 0.95) of the prediction interval given as lower/upper of the best plan and the references, from the stored fit's interval basis (src/predict/interval.ts). Needs `fit` (else 400); for a fit stored before intervals the basis is rebuilt from its curves (409 naming `fit` when they were deleted).",
    },
    grid: {
      type: 'object',
      additionalProperties: false,
      description:
        'The candidates: every start x length x shape x final fraction with start + length <= totalSteps (exp only with a final fraction > 0), plus the two reference plans. At most 20,000 candidates and 5e7 law terms (each distinct cooldown tail costs its length, each candidate one term per lr change of the prefix): beyond, a 400 naming `grid`.',
      properties: {
        starts: numbers('Cooldown start steps (the decay starts after them), each in now..totalSteps - 2. Default: startCount steps evenly spaced over that range, plus totalSteps - length for every length.', { type: 'integer' }),
        startCount: { type: 'integer', minimum: 1, maximum: 256, description: 'Default 12.' },
        lengths: numbers('Cooldown lengths in steps, each in 2..totalSteps - now. Default: lengthFractions x totalSteps.', { type: 'integer' }),
        lengthFractions: numbers('Cooldown lengths as fractions of totalSteps, in (0, 1]. Default [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5].'),
        shapes: { type: 'array', items: { type: 'string', enum: SHAPES }, minItems: 1, maxItems: 4, description: 'Decay shapes of the wsd family (sqrt is 1 - sqrt). Default all four.' },
        finalFractions: numbers('Final lr as a fraction of the current lr, in [0, 1]. Default [0, 0.01, 0.1].'),
      },
    },
  },
  examples: [{ law: 'mpl', params: [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257], prefix: 'constant:peak=3e-4,warmup=2160,total=24000', prefixSteps: 8000, totalSteps: 24000 }],
} as const;

const entryProperties = {
  start: { type: 'integer', description: 'The decay start step (still at the current lr).' },
  length: { type: 'integer', description: 'Cooldown steps.' },
  end: { type: 'integer', description: 'start + length: the steps of the run; the loss is predicted at step end - 1.' },
  shape: { type: 'string', enum: SHAPES },
  finalFraction: { type: 'number' },
  loss: { type: 'number', description: 'Predicted loss at step end - 1.' },
} as const;

const PlanEntry = { type: 'object', required: Object.keys(entryProperties), properties: entryProperties } as const;

const PlanDetail = {
  type: 'object',
  required: [...Object.keys(entryProperties), 'finalLr', 'restSchedule'],
  properties: {
    ...entryProperties,
    finalLr: { type: 'number', description: 'finalFraction x the current lr, to 12 significant digits.' },
    restSchedule: { type: 'string', description: 'The steps after the run so far as a wsd spec (its step 0 is step `now`).' },
    schedule: { type: 'string', description: 'The whole run as one wsd spec, when one reproduces the run so far exactly (a prefix of warmup + constant).' },
    lower: { type: 'number', description: 'With `interval`: the lower end of the prediction interval of the final loss at that level.' },
    upper: { type: 'number', description: 'With `interval`: its upper end.' },
  },
} as const;

export const CooldownPlan = {
  type: 'object',
  required: ['now', 'level', 'totalSteps', 'grid', 'best', 'references', 'gain', 'work', 'wallMs', 'warnings'],
  properties: {
    now: { type: 'integer', description: 'Steps already run: a cooldown may start at any step from now on.' },
    level: { type: 'number', description: 'The current lr (the last of the run so far), which every plan holds until its start and decays from.' },
    totalSteps: { type: 'integer' },
    grid: { type: 'array', items: PlanEntry, description: 'Every candidate with its predicted final loss, in grid order (start, length, shape, final fraction), then the references if not in the grid.' },
    best: { ...PlanDetail, description: 'The candidate with the lowest predicted final loss (ties: the shorter run).' },
    references: {
      type: 'object',
      required: ['coolDownNow', 'continueToBudget'],
      properties: {
        coolDownNow: { ...PlanDetail, description: 'Start the cooldown now: linear to 0 over 20% of the run it ends (now / 4 steps, at most the steps left).' },
        continueToBudget: { ...PlanDetail, description: 'Hold the lr, then the default 20% cooldown at the end of the budget: linear to 0 from round(0.8 totalSteps) (not before now) to totalSteps.' },
      },
    },
    gain: {
      type: 'object',
      required: ['vsCoolDownNow', 'vsContinueToBudget'],
      description: "A reference's predicted final loss minus the best plan's (>= 0: the references are candidates too).",
      properties: { vsCoolDownNow: { type: 'number' }, vsContinueToBudget: { type: 'number' } },
    },
    work: { type: 'integer', description: 'Law terms the plan evaluated.' },
    wallMs: { type: 'number' },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const planCooldown = {
  summary: 'Plan the cooldown of a run in a constant-lr phase: start, length, shape, final lr.',
  description:
    "Every candidate keeps the run so far exactly and continues at its current lr until the cooldown, and its final loss is predicted by the multi-power law over the whole run (exactly: the law's direct sum, reorganized so that a candidate costs one term per lr change of the run so far). The answer lists the grid, the best plan, and its predicted gain over cooling down now and over the default 20% cooldown at the end of the budget. Plans of more than 1e5 law terms run on a worker thread.\n",
  tags: ['optimize'],
  body: PlanCooldownRequest,
  'x-response': {
    200: json('The plan.', CooldownPlan),
    400: problem,
    401: problem,
    404: problem,
    409: problem,
  },
} as const;
