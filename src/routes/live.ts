/**
 * Live runs: a training loop appends points to its curve as it trains (POST /curves/{id}/points),
 * records its planned schedule (PUT /curves/{id}/plan), asks for the forecast of the rest of the run
 * (GET /curves/{id}/forecast) or follows it as server-sent events (GET /curves/{id}/events).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as contract from './contracts/live.js';
import type { Route } from './contracts/index.js';
import { parseCurveCsv } from '../curves/csv.js';
import { pointsFromJson } from '../curves/ingest.js';
import { appendUpdate, sortBatch, type AppendOutcome } from '../curves/append.js';
import { checkPlannedSchedule } from '../curves/plan.js';
import { badRequest, found, HttpProblem, NotFoundError, problemBody } from '../errors.js';
import { computeForecast, LiveFitter, type ForecastDeps, type ForecastQuery } from '../live/forecast.js';
import { LiveHub, type PointsEvent } from '../live/hub.js';
import { FitPool } from '../workers/fit-pool.js';
import { intervalBasesOf } from './fit-interval-basis.js';

/** Open event streams allowed per curve and in all (each holds a connection and, with fit=, forecasts). */
export const MAX_STREAMS_PER_CURVE = 16;
export const MAX_STREAMS = 256;
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** A stream's forecast is recomputed at most this often, however fast points arrive. */
const FORECAST_EVERY_MS = 1_000;

/** The batch of an append request: CSV text or a JSON object with `points`. */
function batchOf(request: FastifyRequest) {
  const isCsv = (request.headers['content-type'] ?? '').toLowerCase().startsWith('text/csv');
  if (isCsv) return parseCurveCsv(request.body as string);
  const body = request.body as { points?: unknown } | null;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object {points: [...]}', 'body');
  return pointsFromJson(body.points);
}

export default async function liveRoutes(app: FastifyInstance) {
  const { store } = app;
  const hub = new LiveHub();
  // Ad hoc fits (forecast?law=) get a pool of their own, one thread, started on first use: they must not queue behind POST /fit's.
  let fitPool: FitPool | undefined;
  const fitter = new LiveFitter(() => (fitPool ??= new FitPool(1)));
  const bases = intervalBasesOf(store);
  const deps: ForecastDeps = { store, fitter, basisOf: (fit) => bases.of(fit) };
  const streams = new Map<() => void, number>();
  app.addHook('preClose', async () => {
    for (const finish of [...streams.keys()]) finish();
  });
  app.addHook('onClose', async () => fitPool?.close());

  app.post<Route<typeof contract.appendPoints> & { Body: unknown }>('/curves/:id/points', { schema: contract.appendPoints }, async (request) => {
    const { id } = request.params;
    const batch = sortBatch(batchOf(request));
    const outcome: AppendOutcome = { added: 0, unchanged: 0 };
    const curve = await store.curves.updatePoints(id, appendUpdate(batch, outcome));
    if (!curve) throw new NotFoundError('curve', id);
    const event: PointsEvent = { ...outcome, pointCount: curve.pointCount, lastStep: curve.lastStep };
    if (outcome.added > 0) hub.publish(id, event);
    return { id, ...outcome, pointCount: curve.pointCount, firstStep: curve.firstStep, lastStep: curve.lastStep };
  });

  app.put<Route<typeof contract.setPlan>>('/curves/:id/plan', { schema: contract.setPlan }, async (request) => {
    const { id } = request.params;
    const summary = found(await store.curves.summary(id), 'curve', id);
    if (summary.schedule !== null) {
      throw new HttpProblem(409, `curve ${id} was uploaded with the schedule spec ${summary.schedule}, which is its plan for the whole run`, 'schedule');
    }
    const spec = request.body.schedule === null ? null : checkPlannedSchedule(request.body.schedule, 'schedule');
    if (!(await store.curves.setPlannedSchedule(id, spec))) throw new NotFoundError('curve', id);
    return found(await store.curves.summary(id), 'curve', id);
  });

  app.get<Route<typeof contract.forecast>>('/curves/:id/forecast', { schema: contract.forecast, config: { heavy: true } }, async (request) => {
    const curve = found(await store.curves.get(request.params.id), 'curve', request.params.id);
    return computeForecast(deps, curve, request.query as ForecastQuery, contract.DEFAULT_FORECAST_POINTS);
  });

  app.get<Route<typeof contract.curveEvents>>('/curves/:id/events', { schema: contract.curveEvents }, async (request, reply) => {
    const { id } = request.params;
    found(await store.curves.summary(id), 'curve', id); // 404 before the stream starts
    const { fit, interval } = request.query;
    if (fit !== undefined) found(await store.fits.get(fit), 'fit', fit, 'fit');
    const open = [...streams.values()];
    if (open.length >= MAX_STREAMS || open.filter((c) => c === id).length >= MAX_STREAMS_PER_CURVE) {
      reply.header('retry-after', '30');
      const scope = open.length >= MAX_STREAMS ? `${MAX_STREAMS} event streams are open` : `${MAX_STREAMS_PER_CURVE} event streams of curve ${id} are open`;
      throw new HttpProblem(429, `${scope}, the most allowed: close one, or retry later`);
    }
    streamEvents(request, reply, id, fit === undefined ? undefined : { fit, interval });
  });

  /** The event stream of curve `id`: `points` on each append, `forecast` (with fit=) at most once a second, heartbeats. */
  function streamEvents(request: FastifyRequest, reply: FastifyReply, id: number, forecastQuery: ForecastQuery | undefined) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    let computing = false;
    let stale = false;
    let lastForecastAt = 0;
    /** Compute and send a forecast now; one at a time: points arriving meanwhile ask for another after it. */
    const forecastNow = async () => {
      timer = undefined;
      if (finished || !forecastQuery) return;
      if (computing) return void (stale = true);
      computing = true;
      lastForecastAt = Date.now();
      try {
        const curve = await store.curves.get(id);
        const answer = curve ? await computeForecast(deps, curve, forecastQuery, contract.DEFAULT_FORECAST_POINTS) : undefined;
        if (!finished) answer ? send('forecast', answer) : send('forecast-failed', problemBody(404, `curve ${id} was deleted`, 'id'));
      } catch (error) {
        const e = error instanceof HttpProblem ? error : error instanceof NotFoundError ? new HttpProblem(404, error.message, error.field) : new HttpProblem(500, 'the forecast failed');
        if (!finished) send('forecast-failed', problemBody(e.status, e.message, e.field));
      } finally {
        computing = false;
      }
      if (stale) {
        stale = false;
        scheduleForecast();
      }
    };
    const scheduleForecast = () => {
      if (finished || !forecastQuery || timer) return;
      timer = setTimeout(forecastNow, Math.max(0, lastForecastAt + FORECAST_EVERY_MS - Date.now()));
    };
    const unsubscribe = hub.subscribe(id, (event) => {
      if (finished) return;
      send('points', event);
      scheduleForecast();
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const finish = () => {
      if (finished) return;
      finished = true;
      streams.delete(finish);
      unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(timer);
      res.end();
    };
    streams.set(finish, id);
    request.raw.on('close', finish);
    res.write(': connected\n\n');
    if (forecastQuery) void forecastNow();
  }
}
