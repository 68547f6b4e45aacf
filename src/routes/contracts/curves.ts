/** Contracts of the curves resource: upload (JSON or CSV), list, read back, per-step schedule, delete. */
import { idParams, json, noContent, page, pageQuery, problem } from './common.js';

export const Point = {
  $id: 'Point',
  type: 'object',
  required: ['step', 'loss'],
  properties: {
    step: { type: 'integer', minimum: 0, description: 'Strictly increasing.' },
    loss: { type: 'number', exclusiveMinimum: 0 },
    lr: { type: 'number', minimum: 0, description: 'Learning rate at this step, if logged.' },
  },
} as const;

export const CurveUpload = {
  $id: 'CurveUpload',
  type: 'object',
  required: ['name', 'points'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    schedule: { type: 'string', description: 'Schedule spec the run was trained with.' },
    plannedSchedule: {
      type: 'string',
      description: 'Only without schedule: the spec planned for the whole run (a live run logging lr values); forecasts follow it after the last logged step. Also PUT /curves/{id}/plan.',
    },
    warmupSteps: {
      type: 'integer',
      minimum: 0,
      description: "Only without schedule: warmup of the schedule rebuilt from lr values; at most the first logged lr's step + 1.",
    },
    meta: {
      type: 'object',
      description: 'Free-form JSON: model size, tokens per step, tags... At most 16 levels of nesting and 16 KiB (16384 bytes) as JSON, else 400 naming `meta`.',
    },
    points: { type: 'array', minItems: 1, maxItems: 2000000, items: { $ref: 'Point#' } },
  },
} as const;

export const CurveCreated = {
  $id: 'CurveCreated',
  type: 'object',
  required: ['id', 'name', 'pointCount', 'firstStep', 'lastStep', 'schedule', 'plannedSchedule'],
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    pointCount: { type: 'integer' },
    firstStep: { type: 'integer' },
    lastStep: { type: 'integer' },
    schedule: { type: ['string', 'null'] },
    plannedSchedule: { type: ['string', 'null'] },
  },
} as const;

export const CurveSummary = {
  $id: 'CurveSummary',
  type: 'object',
  required: ['id', 'name', 'createdAt', 'meta', 'schedule', 'warmupSteps', 'plannedSchedule', 'pointCount', 'firstStep', 'lastStep'],
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    meta: { type: ['object', 'null'] },
    schedule: { type: ['string', 'null'] },
    warmupSteps: { type: ['integer', 'null'] },
    plannedSchedule: { type: ['string', 'null'], description: 'The spec planned for the whole run, when set (live runs).' },
    pointCount: { type: 'integer' },
    firstStep: { type: 'integer' },
    lastStep: { type: 'integer' },
  },
} as const;

/** A curve with its points. */
export const Curve = {
  allOf: [{ $ref: 'CurveSummary#' }, { type: 'object', required: ['points'], properties: { points: { type: 'array', items: { $ref: 'Point#' } } } }],
} as const;

export const SampledSchedule = {
  $id: 'SampledSchedule',
  type: 'object',
  required: ['total', 'steps', 'lrs'],
  properties: {
    total: { type: 'integer', description: 'Steps in the schedule.' },
    steps: { type: 'array', items: { type: 'integer' } },
    lrs: { type: 'array', items: { type: 'number' } },
  },
} as const;

/** POST /curves query (CSV uploads take the curve's name and schedule here). */
export const uploadQuery = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Curve name (CSV uploads).' },
    schedule: { type: 'string', description: 'Schedule spec (CSV uploads).' },
    plannedSchedule: { type: 'string', description: 'Planned schedule of a live run (CSV uploads; not with `schedule`).' },
    warmupSteps: {
      type: 'integer',
      minimum: 0,
      description: "Warmup length for schedules rebuilt from lr values (CSV uploads); at most the first logged lr's step + 1; not allowed with `schedule`.",
    },
  },
} as const;

export const uploadCurve = {
  summary: 'Upload a loss curve (JSON or CSV).',
  description:
    "The curve's per-step schedule comes from `schedule` when given (then every point's `lr`,\nif present, must agree with it to 1e-6 relative, else 400 listing the first mismatching\nsteps); otherwise it is rebuilt from the points' `lr` values: exact where every step is\nlogged, linear interpolation between logged steps, with a linear warmup from 0 over\n`warmupSteps` before the first logged lr (the first logged lr holds from step 0 when\n`warmupSteps` is absent). The warmup must reach the first logged lr by its step:\n`warmupSteps` is at most that step + 1, else 400 naming `warmupSteps`. `warmupSteps`\napplies only to rebuilt schedules: given with `schedule` it is refused (400, `warmupSteps`),\nas the spec carries its own `warmup`. A rebuilt schedule, like a spec, has at most\n10,000,000 steps: a point at step 10,000,000 or later is refused (400 naming it, e.g.\n`points[3].step`); with `schedule`, every point must lie inside the schedule (400,\n`schedule`). A curve with neither a schedule nor lr values is rejected.\nThe whole upload is checked before one transaction writes it: a rejected request stores nothing.\nLimits: 2,000,000 points, 64 MiB body (413). Bodies are `application/json` or `text/csv`;\nany other type, `text/plain` included, is 415.\n",
  tags: ['curves'],
  querystring: uploadQuery,
  // Documentation only: the body is JSON or CSV and the ingest code checks it (naming the field at fault).
  'x-body': {
    content: {
      'application/json': { schema: { $ref: 'CurveUpload#' } },
      'text/csv': {
        schema: {
          type: 'string',
          description: 'Header naming `step`, `loss` and optionally `lr` (any order; other columns ignored), then one point per line.',
          examples: ['step,lr,loss\n2160,0.0003,4.1114\n2288,0.00029998,4.0342\n'],
        },
      },
    },
  },
  'x-response': {
    201: {
      description: 'Stored.',
      headers: { Location: { type: 'string', description: 'The stored curve: /curves/{id}.' } },
      content: { 'application/json': { schema: { $ref: 'CurveCreated#' } } },
    },
    400: problem,
    401: problem,
    413: problem,
    415: problem,
  },
} as const;

export const listCurves = {
  summary: 'List curves (without points), oldest first.',
  tags: ['curves'],
  querystring: pageQuery,
  'x-response': { 200: json('A page of curves.', page({ $ref: 'CurveSummary#' })) },
} as const;

export const getCurve = {
  summary: 'A curve with its points (JSON, or CSV with `format=csv`).',
  tags: ['curves'],
  params: idParams,
  querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'csv'], description: 'Default json.' } } },
  'x-response': {
    200: {
      description: 'The curve; values read back exactly as stored (float64).',
      content: { 'application/json': { schema: Curve }, 'text/csv': { schema: { type: 'string' } } },
    },
    404: problem,
  },
} as const;

export const curveSchedule = {
  summary: 'The per-step learning-rate schedule of a curve (from its spec or rebuilt from logged lr values).',
  tags: ['curves'],
  params: idParams,
  querystring: {
    type: 'object',
    properties: { every: { type: 'integer', minimum: 1, description: 'Every N-th step plus the last (default: about 1000 values).' } },
  },
  'x-response': { 200: json('Sampled schedule.', { $ref: 'SampledSchedule#' }), 404: problem },
} as const;

export const deleteCurve = {
  summary: 'Delete a curve.',
  tags: ['curves'],
  params: idParams,
  'x-response': { 204: noContent, 401: problem, 404: problem },
} as const;
