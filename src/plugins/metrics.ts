/**
 * GET /metrics: the service's Prometheus metrics (text format 0.0.4), on a prom-client registry of
 * this app's own (not the global one: tests build several apps in one process, and each must count
 * only its own). What it exposes:
 *
 * - `lrcast_http_request_duration_seconds{method,route,status_code}`: every answered request (event
 *   streams, which are taken over from fastify, excepted), by the route's URL pattern (`/jobs/:id`,
 *   never the raw URL, so the label stays bounded; `unmatched` for 404s of no route);
 * - `lrcast_job_queue_depth{kind,status}`: queued and running jobs, read from the store at scrape time;
 * - `lrcast_job_duration_seconds{kind,status}`: jobs that ended here, from submission (or resumption
 *   after a restart) to their end, by final status;
 * - `lrcast_fits_total{law,outcome}` and `lrcast_searches_total{space,outcome}`: fits and schedule
 *   searches run, synchronous or as jobs, by outcome (done, failed, cancelled);
 * - prom-client's default process metrics, event-loop lag (`nodejs_eventloop_lag_*`) included.
 *
 * The route is a read like any other: it follows the auth plugin's read protection (registered after it).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobService } from '../jobs/service.js';
import * as contract from '../routes/contracts/service.js';

/** How a fit or a search ended. */
export type Outcome = 'done' | 'failed' | 'cancelled';

export interface ServiceMetrics {
  registry: Registry;
  /** Fits run, synchronous or as jobs, by law and outcome (see `countOutcome`). */
  fits: Counter<'law' | 'outcome'>;
  /** Schedule searches run, synchronous or as jobs, by space and outcome. */
  searches: Counter<'space' | 'outcome'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics (src/plugins/metrics.ts): routes count their fits and searches on it. */
    metrics: ServiceMetrics;
  }
}

/** Seconds: from a quick read to a long synchronous search. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Seconds: from a small fit to a long queued search. */
const JOB_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** The statuses of unfinished jobs, each reported for every kind (0 included) so the series never vanish. */
const UNFINISHED = ['queued', 'running'] as const;

/**
 * Count on `counter` how `work` ends: done when it resolves; cancelled when it rejects after
 * `signal` was aborted (the client left, the job was cancelled, the server stopped); else failed.
 * The value or error of `work` passes through.
 */
export async function countOutcome<T, L extends string>(counter: Counter<L | 'outcome'>, labels: Record<L, string>, signal: AbortSignal | undefined, work: Promise<T>): Promise<T> {
  const count = (outcome: Outcome) => counter.inc({ ...labels, outcome } as Record<L | 'outcome', string>);
  try {
    const value = await work;
    count('done');
    return value;
  } catch (error) {
    count(signal?.aborted ? 'cancelled' : 'failed');
    throw error;
  }
}

/** The job metrics: queue depth collected from the store at scrape time, durations as jobs end. */
function jobMetrics(registry: Registry, runner: JobService): () => void {
  new Gauge({
    name: 'lrcast_job_queue_depth',
    help: 'Jobs queued or running, by kind and status (read from the database at scrape time).',
    labelNames: ['kind', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const kind of runner.definedKinds()) for (const status of UNFINISHED) this.set({ kind, status }, 0);
      for (const { kind, status, count } of await runner.unfinishedCounts()) this.set({ kind, status }, count);
    },
  });
  const durations = new Histogram({
    name: 'lrcast_job_duration_seconds',
    help: 'Jobs that ended in this process, from submission (or resumption after a restart) to the end, by kind and final status.',
    labelNames: ['kind', 'status'],
    buckets: JOB_BUCKETS,
    registers: [registry],
  });
  return runner.onEnded(({ kind, status, seconds }) => durations.observe({ kind, status }, seconds));
}

export default fp(async function metricsPlugin(app: FastifyInstance) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Histogram({
    name: 'lrcast_http_request_duration_seconds',
    help: 'Answered HTTP requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const fits = new Counter({ name: 'lrcast_fits_total', help: 'Fits run (synchronous or as jobs), by law and outcome.', labelNames: ['law', 'outcome'], registers: [registry] });
  const searches = new Counter({
    name: 'lrcast_searches_total',
    help: 'Schedule searches run (synchronous or as jobs), by space (default: none asked) and outcome.',
    labelNames: ['space', 'outcome'],
    registers: [registry],
  });
  const stopJobMetrics = jobMetrics(registry, app.jobs);
  app.decorate('metrics', { registry, fits, searches });
  app.addHook('onClose', async () => stopJobMetrics());

  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
    requests.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: contract.metrics }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(contract.PROMETHEUS_TEXT).send(text);
  });
});
