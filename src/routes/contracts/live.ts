/** Contracts of live runs: appending points, the planned schedule, the forecast of the rest of a run and its event stream. */
import { idParams, json, problem } from './common.js';
import { LAW_IDS } from '../../laws/ids.js';

/** At most this many forecast points per answer (default 200). */
export const MAX_FORECAST_POINTS = 1000;
export const DEFAULT_FORECAST_POINTS = 200;

export const appendPoints = {
  summary: 'Append points to a curve (a live run logging as it trains).',
  description:
    'JSON `{points: [{step, loss, lr?}]}` or `text/csv` with the columns of an upload, checked as an upload\'s points are\n' +
    '(400 naming `points[i].<field>`, i as sent). A batch may come in any order (points are stored sorted by step).\n' +
    'A step stored already with the same values is left unchanged (resending a batch is harmless); with another\n' +
    'loss or lr it is a 409 naming it (`points[i].step`, with `step` and the `stored` values). The merged curve must\n' +
    'pass the upload\'s schedule checks (inside its spec and agreeing with it). Each batch is atomic: a refused\n' +
    'batch stores nothing. Limits: those of an upload per batch, 2,000,000 points per curve.\n' +
    'Subscribers of `GET /curves/{id}/events` get a `points` event.',
  tags: ['curves'],
  params: idParams,
  'x-body': {
    content: {
      'application/json': {
        schema: { type: 'object', required: ['points'], properties: { points: { type: 'array', minItems: 1, maxItems: 2000000, items: { $ref: 'Point#' } } } },
      },
      'text/csv': { schema: { type: 'string', description: 'Header naming `step`, `loss` and optionally `lr`, then one point per line.' } },
    },
  },
  'x-response': {
    200: json('Appended.', {
      type: 'object',
      required: ['id', 'added', 'unchanged', 'pointCount', 'firstStep', 'lastStep'],
      properties: {
        id: { type: 'integer' },
        added: { type: 'integer', description: 'Points new to the curve.' },
        unchanged: { type: 'integer', description: 'Points stored already with the same values.' },
        pointCount: { type: 'integer' },
        firstStep: { type: 'integer' },
        lastStep: { type: 'integer' },
      },
    }),
    400: problem,
    401: problem,
    404: problem,
    409: problem,
    413: problem,
    415: problem,
  },
} as const;

export const setPlan = {
  summary: "Set (or clear, with null) a live run's planned schedule.",
  description:
    'The spec of the whole run; forecasts follow it after the last logged step (the logged lrs hold before). A curve\n' +
    'uploaded with a `schedule` spec has that spec as its plan: 409 naming `schedule`.',
  tags: ['curves'],
  params: idParams,
  body: {
    type: 'object',
    required: ['schedule'],
    additionalProperties: false,
    properties: { schedule: { type: ['string', 'null'], description: 'Schedule spec of the whole run, or null for none.' } },
  },
  'x-response': { 200: json('The curve, its plan set.', { $ref: 'CurveSummary#' }), 400: problem, 401: problem, 404: problem, 409: problem },
} as const;

const forecastSource = {
  fit: { type: 'integer', minimum: 1, description: 'A stored fit to forecast with.' },
  law: { type: 'string', enum: LAW_IDS, description: "Instead of fit: fit this law to the run's own points so far (plus the curves of `with`), cheaply, on the fit pool." },
  with: { type: 'string', pattern: '^[1-9][0-9]{0,15}(,[1-9][0-9]{0,15}){0,31}$', description: 'With law: ids of other curves to fit with the run (comma-separated, at most 32).' },
} as const;

export const forecast = {
  summary: 'Forecast the rest of a live run under its planned schedule.',
  description:
    'The predicted loss from the last logged step to the end of the planned schedule (`points` steps, evenly spaced),\n' +
    'the predicted final loss, with `interval=LEVEL` its `lower`/`upper` where the fit has an interval basis, and\n' +
    '`history`: the predicted final loss of the last forecasts from the same source (fit, or law and `with`), one kept\n' +
    'each time a forecast is computed after new points (at most 20). 409 naming `plannedSchedule` when the run has no\n' +
    'plan or has reached its end.',
  tags: ['curves'],
  params: idParams,
  querystring: {
    type: 'object',
    properties: {
      ...forecastSource,
      interval: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Coverage of the interval (0.8, 0.95, ...).' },
      points: { type: 'integer', minimum: 2, maximum: MAX_FORECAST_POINTS, description: `Forecast points (default ${DEFAULT_FORECAST_POINTS}).` },
    },
  },
  'x-response': {
    200: json('The forecast.', {
      type: 'object',
      required: ['curve', 'source', 'law', 'params', 'plan', 'totalSteps', 'lastStep', 'pointCount', 'steps', 'loss', 'final', 'history', 'warnings'],
      properties: {
        curve: { type: 'integer' },
        source: { type: 'string', description: '`fit:ID`, or `law:ID` (+ ` with:1,2`).' },
        fit: { type: 'integer' },
        law: { type: 'string' },
        params: { type: 'object', additionalProperties: { type: 'number' } },
        plan: { type: 'string', description: 'The spec the rest of the run follows.' },
        totalSteps: { type: 'integer' },
        lastStep: { type: 'integer', description: 'The last logged step.' },
        pointCount: { type: 'integer' },
        steps: { type: 'array', items: { type: 'integer' } },
        loss: { type: 'array', items: { type: ['number', 'null'] } },
        level: { type: 'number' },
        lower: { type: 'array', items: { type: ['number', 'null'] } },
        upper: { type: 'array', items: { type: ['number', 'null'] } },
        final: {
          type: 'object',
          required: ['step', 'loss'],
          properties: { step: { type: 'integer' }, loss: { type: ['number', 'null'] }, lower: { type: ['number', 'null'] }, upper: { type: ['number', 'null'] } },
        },
        history: {
          type: 'array',
          items: {
            type: 'object',
            required: ['createdAt', 'pointCount', 'lastStep', 'finalStep', 'finalLoss'],
            properties: {
              createdAt: { type: 'string', format: 'date-time' },
              pointCount: { type: 'integer' },
              lastStep: { type: 'integer' },
              finalStep: { type: 'integer' },
              finalLoss: { type: ['number', 'null'] },
              lower: { type: ['number', 'null'] },
              upper: { type: ['number', 'null'] },
            },
          },
        },
        warnings: { type: 'array', items: { type: 'string' } },
      },
    }),
    400: problem,
    404: problem,
    409: problem,
  },
} as const;

export const curveEvents = {
  summary: 'Server-sent events of a live run.',
  description:
    'Events: `points` (each appended batch: `{added, unchanged, pointCount, lastStep}`) and, with `fit=ID`, `forecast`\n' +
    '(the forecast as GET /curves/{id}/forecast answers it: one at once, then refreshed after new points, at most once a\n' +
    'second; `forecast-failed` with a problem body when it cannot be computed), plus a comment line every 15 s. The\n' +
    'stream ends when the server stops (reconnect). At most 16 open streams per curve and 256 in all: 429 beyond.',
  tags: ['curves'],
  params: idParams,
  querystring: { type: 'object', properties: { fit: forecastSource.fit, interval: forecast.querystring.properties.interval } },
  'x-response': { 200: { description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 400: problem, 404: problem, 429: problem },
} as const;
