/** Contracts of the service routes: GET /health and GET /metrics. */
import { json, problem } from './common.js';

export const Health = {
  type: 'object',
  required: ['status', 'curves', 'backend', 'backendNotes'],
  properties: {
    status: { type: 'string', const: 'ok' },
    curves: { type: 'integer' },
    backend: {
      type: ['string', 'null'],
      enum: ['node-gpu', 'wasm', 'cpu', null],
      description: 'TensorFlow.js backend of the optimizer, once loaded (the server loads it at start).',
    },
    backendNotes: { type: 'array', items: { type: 'string' }, description: 'Why preferred backends were skipped.' },
  },
} as const;

export const health = {
  summary: 'Liveness, curve count and the TensorFlow.js backend in use.',
  tags: ['service'],
  'x-response': { 200: json('OK', Health) },
} as const;

/** The Prometheus text exposition format, as prom-client writes it. */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export const metrics = {
  summary: 'Prometheus metrics of this server process.',
  description:
    'Text exposition format 0.0.4. `lrcast_http_request_duration_seconds` (histogram by method, route pattern and status code), `lrcast_job_queue_depth` (queued and running jobs by kind and status, read from the database at scrape time), `lrcast_job_duration_seconds` (histogram of jobs that ended here, from submission or resumption to the end, by kind and final status), `lrcast_fits_total` (by law and outcome) and `lrcast_searches_total` (by space and outcome: done, failed or cancelled), and the Node.js process metrics of prom-client (CPU, memory, GC, event-loop lag `nodejs_eventloop_lag_*`). Needs the read token when the server has one, like every read of the API.',
  tags: ['service'],
  'x-response': {
    200: { description: 'The metrics.', content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } } },
    401: problem,
  },
} as const;
