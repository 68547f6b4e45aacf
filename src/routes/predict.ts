/**
 * GET /predict (and POST /predict with the same parameters in a JSON body, for specs too long for
 * a URL): the loss curve a law predicts for a schedule. Parameters come from a stored fit
 * (`fit=ID`) or directly (`law=mpl&params=...`); the schedule from a spec (`schedule=`) or a stored
 * curve (`curve=ID`, then also the metrics against its points).
 *
 * Every request is sized before any work (src/predict/budget.ts): over the answer or work limits it
 * is a 400 naming the field to change (src/predict/limits.ts); small predictions run inline, the
 * others on worker threads (src/workers/predict-pool.ts). Answers to specs are kept by canonical
 * request (src/predict/answer-cache.ts), so a repeated prediction costs no computation.
 *
 * `interval=LEVEL` (with a stored fit) adds a prediction interval at that coverage level, computed
 * where the prediction is (src/predict/compute-interval.ts) from the fit's interval basis, which a
 * fit stored before intervals gets rebuilt on first use (fit-interval-basis.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, found } from '../errors.js';
import { methodOf } from '../fit/options.js';
import { getLaw, LAW_IDS, LAW_OPTIONS, lawsWithOption, outOfDomain, type ParamSpec } from '../laws/index.js';
import type { LawId } from '../laws/law.js';
import { formatSchedule, parseSpecText, type ScheduleSpec } from '../schedule/spec.js';
import { AnswerCache } from '../predict/answer-cache.js';
import { DEFAULT_POINTS, predictionJson, type FitInfo, type PredictTask } from '../predict/compute.js';
import { expansionUsPerStep, lawPredictionCost, MAX_ANSWER_POINTS, placement, type PointsField, type PredictionSize } from '../predict/budget.js';
import { checkAnswerSize, checkSpecLength, checkWork } from '../predict/limits.js';
import { sampledCount } from '../schedule/expand.js';
import type { IntervalTask } from '../predict/compute-interval.js';
import type { StoredFit } from '../store/types.js';
import { PredictPool } from '../workers/predict-pool.js';
import { intervalBasesOf, type IntervalBases } from './fit-interval-basis.js';
import { clientGoneError, clientGoneSignal } from './client-gone.js';
import * as contract from './contracts/predict.js';

interface PredictQuery {
  fit?: number;
  law?: LawId;
  params?: string;
  lambda?: number;
  schedule?: string;
  curve?: number;
  steps?: string;
  every?: number;
  /** Coverage level of a prediction interval, in (0, 1) (the schema checks it). */
  interval?: number;
}

type Store = FastifyInstance['store'];

/** Answers to specs up to this long are cached by their canonical form. */
const CACHED_SPEC_CHARS = 16 * 1024;

function parseParams(raw: string, specs: readonly ParamSpec[]): number[] {
  const names = specs.map((p) => p.name);
  const values = raw.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
  if (values.length !== names.length) throw badRequest(`params needs ${names.length} comma-separated numbers (${names.join(', ')}), got ${values.length}`, 'params');
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw badRequest(`params: ${names[i]} is not a finite number`, 'params');
  });
  const outside = outOfDomain(specs, values);
  if (outside.length > 0) throw badRequest(`params outside the law's domain: needs ${outside.join(', ')}`, 'params');
  return values;
}

/** The steps of `steps=`, each in the schedule; a list longer than an answer may be is refused before it is parsed. */
function parseSteps(raw: string, total: number, maxCount: number): number[] {
  let commas = 0;
  for (let i = raw.indexOf(','); i >= 0 && commas <= maxCount; i = raw.indexOf(',', i + 1)) commas++;
  if (commas >= maxCount) throw badRequest(`steps lists more than ${maxCount.toLocaleString('en-US')} steps, over the limit of an answer: ask for fewer (over several requests, or every=N)`, 'steps');
  return raw.split(',').map((text) => {
    const s = text.trim() === '' ? NaN : Number(text);
    if (!Number.isInteger(s) || s < 0 || s >= total) throw badRequest(`steps: "${text}" is not a step of the schedule (an integer in 0..${total - 1})`, 'steps');
    return s;
  });
}

/** The law and its parameters and options, from fit= or law=&params= (and the query's options). */
interface LawChoice {
  lawId: LawId;
  params: number[];
  lawOptions: Record<string, unknown>;
  fitInfo?: FitInfo;
  /** The stored fit, when the params come from one. */
  fit?: StoredFit;
}

/** The law, parameters and options of a stored fit (`fit=ID`) or given directly (`law=...&params=...`). */
async function resolveLawSource(store: Store, q: PredictQuery): Promise<LawChoice> {
  if (q.fit !== undefined) {
    if (q.law !== undefined || q.params !== undefined) throw badRequest('give either fit=ID or law=...&params=..., not both', 'fit');
    const fit = found(await store.fits.get(q.fit), 'fit', q.fit, 'fit');
    const lawId = fit.law;
    // The law's options as the fit set them (the law's defaults otherwise).
    const fitOptions = fit.options as Record<string, unknown>;
    const lawOptions = Object.fromEntries(getLaw(lawId).options.filter((o) => fitOptions[o.name] !== undefined).map((o) => [o.name, fitOptions[o.name]]));
    return { lawId, params: fit.params, lawOptions, fitInfo: { id: fit.id, maxLr: fit.maxLr, maxSteps: fit.maxSteps }, fit };
  }
  if (q.law === undefined) throw badRequest(`give fit=ID, or law=${LAW_IDS.join('|')} with params=...`, 'fit');
  if (q.params === undefined) throw badRequest(`law=${q.law} needs params=comma-separated values`, 'params');
  const lawId = q.law;
  return { lawId, params: parseParams(q.params, getLaw(lawId).params), lawOptions: {} };
}

/** The law's options given in the query replace the fit's; another law's options are refused. */
function queryLawOptions(q: PredictQuery, lawId: LawId, lawOptions: Record<string, unknown>): Record<string, unknown> {
  const query = q as unknown as Record<string, unknown>;
  for (const option of LAW_OPTIONS) {
    if (query[option.name] === undefined) continue;
    if (!getLaw(lawId).options.some((o) => o.name === option.name)) {
      throw badRequest(`${option.name} applies to the ${lawsWithOption(option.name).join(', ')} law only (its ${option.summary})`, option.name);
    }
  }
  const queried = getLaw(lawId).options.filter((o) => query[o.name] !== undefined);
  return queried.length > 0 ? Object.fromEntries(queried.map((o) => [o.name, query[o.name]])) : lawOptions;
}

/** Where the parameters come from: a fit or the query, with the query's law options applied. */
async function resolveLaw(store: Store, q: PredictQuery): Promise<LawChoice> {
  const choice = await resolveLawSource(store, q);
  return { ...choice, lawOptions: queryLawOptions(q, choice.lawId, choice.lawOptions) };
}

/** Which schedule, sized without expanding it: a spec (grammar checked) or a stored curve's (its summary). */
interface ScheduleSource {
  /** The spec given (`schedule=`). */
  spec?: ScheduleSpec;
  curveId?: number;
  /** The stored curve's spec, if it has one. */
  curveSpec?: ScheduleSpec;
  totalSteps: number;
  expansionUsPerStep: number;
  observedPoints: number;
}

async function resolveScheduleSource(store: Store, q: PredictQuery): Promise<ScheduleSource> {
  if ((q.schedule === undefined) === (q.curve === undefined)) throw badRequest('give exactly one of schedule=SPEC or curve=ID', 'schedule');
  if (q.schedule !== undefined) {
    checkSpecLength(q.schedule);
    // The grammar only: an expr's f is compiled where the schedule is expanded (mathjs stays off the event loop).
    const spec = parseSpecText(q.schedule);
    return { spec, totalSteps: spec.total, expansionUsPerStep: expansionUsPerStep(spec), observedPoints: 0 };
  }
  const summary = found(await store.curves.summary(q.curve!), 'curve', q.curve!, 'curve');
  const spec = summary.schedule === null ? undefined : parseSpecText(summary.schedule);
  const totalSteps = spec ? spec.total : summary.lastStep + 1;
  return { curveId: summary.id, curveSpec: spec, totalSteps, expansionUsPerStep: expansionUsPerStep(spec), observedPoints: summary.pointCount };
}

/** The answer's size: how many points, and which field sets their number. */
function predictionSize(q: PredictQuery, source: ScheduleSource, steps: number[] | undefined): PredictionSize {
  const { totalSteps } = source;
  let points: number;
  let pointsField: PointsField;
  if (steps) [points, pointsField] = [steps.length, 'steps'];
  else if (q.every !== undefined) [points, pointsField] = [sampledCount(totalSteps, q.every), 'every'];
  else if (source.curveId !== undefined) [points, pointsField] = [source.observedPoints, 'curve'];
  else [points, pointsField] = [sampledCount(totalSteps, Math.max(1, Math.ceil(totalSteps / DEFAULT_POINTS))), 'default'];
  const scheduleField = source.curveId === undefined ? 'schedule' : 'curve';
  return {
    totalSteps,
    scheduleField,
    expansionUsPerStep: source.expansionUsPerStep,
    points,
    pointsField,
    every: q.every,
    observedPoints: source.observedPoints,
    interval: q.interval !== undefined,
  };
}

/** Intervals need what a stored fit keeps of its data: with law=&params= there is none. */
function checkIntervalSource(q: PredictQuery): void {
  if (q.interval === undefined || q.fit !== undefined) return;
  throw badRequest(
    'a prediction interval needs a stored fit (fit=ID): it comes from the fit\'s parameter covariance and the data it was fitted on, which law=&params= do not carry; leave out interval, or fit the law first (POST /fit)',
    'interval',
  );
}

/** The interval part of a task: the fit's basis (stored, or rebuilt on the fit pool) at the level asked for. */
export async function intervalTask(bases: IntervalBases, fit: StoredFit, level: number): Promise<IntervalTask> {
  const method = methodOf(fit.law, fit.options);
  const fitKind = getLaw(fit.law).fit.methods.length > 1 ? `${fit.law} method ${method}` : fit.law;
  return { level, basis: await bases.of(fit), calibrated: fit.law === 'mpl' && method === 'map', fitKind };
}

export default async function predictRoutes(app: FastifyInstance) {
  const { store } = app;
  const pool = new PredictPool();
  const answers = new AnswerCache();
  const bases = intervalBasesOf(store);
  app.addHook('onListen', async () => pool.warm());
  app.addHook('onClose', async () => {
    answers.clear();
    await pool.close();
  });

  /** Size, check, then answer from the cache, inline or on the pool. */
  async function predict(q: PredictQuery, request: FastifyRequest, reply: FastifyReply) {
    checkIntervalSource(q);
    const { lawId, params, lawOptions, fitInfo, fit } = await resolveLaw(store, q);
    const source = await resolveScheduleSource(store, q);
    if (q.steps !== undefined && q.every !== undefined) throw badRequest('give steps=... or every=N, not both', 'steps');
    const steps = q.steps === undefined ? undefined : parseSteps(q.steps, source.totalSteps, MAX_ANSWER_POINTS);
    const size = predictionSize(q, source, steps);
    checkAnswerSize(size, source.curveId);
    const estimatedUs = checkWork(lawId, lawPredictionCost(getLaw(lawId)), size, source.curveId);

    const task: PredictTask = { law: lawId, params, lawOptions, fitInfo, spec: source.spec, steps, every: q.every };
    // Not kept: answers to stored curves (a deleted curve's id may name another one later) and to long specs (formatting them takes ms).
    const cacheable = source.spec !== undefined && q.schedule!.length <= CACHED_SPEC_CHARS;
    const key = cacheable ? JSON.stringify([lawId, params, lawOptions, fitInfo ?? null, formatSchedule(source.spec!), steps ?? null, q.every ?? null, q.interval ?? null]) : undefined;
    const cached = key === undefined ? undefined : answers.get(key);
    if (cached) return sendJson(reply, cached);
    if (source.curveId !== undefined) task.curve = found(await store.curves.get(source.curveId), 'curve', source.curveId, 'curve');
    if (q.interval !== undefined) task.interval = await intervalTask(bases, fit!, q.interval);

    const where = placement(estimatedUs, source.spec ?? source.curveSpec);
    const json = where === 'inline' ? predictionJson(task) : await onPool(task, where === 'heavy', request, reply);
    if (key !== undefined) answers.set(key, json);
    return sendJson(reply, json);
  }

  /** A prediction on the pool; a heavy one stops when its client goes away. */
  async function onPool(task: PredictTask, heavy: boolean, request: FastifyRequest, reply: FastifyReply): Promise<Uint8Array> {
    if (!heavy) return pool.run(task);
    const { signal, release } = clientGoneSignal(request, reply, 'the client closed the request');
    try {
      return await pool.run(task, { heavy, signal });
    } catch (error) {
      throw clientGoneError(signal, error);
    } finally {
      release();
    }
  }

  app.get<{ Querystring: PredictQuery }>('/predict', { schema: contract.predict, config: { heavy: true } }, (request, reply) => predict(request.query, request, reply));
  app.post<{ Body: PredictQuery }>('/predict', { schema: contract.predictPost, bodyLimit: contract.PREDICT_BODY_LIMIT, config: { heavy: true, read: true } }, (request, reply) =>
    predict(request.body, request, reply),
  );
}

/** The answer's JSON bytes as they are (no serializer). */
function sendJson(reply: FastifyReply, json: Uint8Array) {
  return reply.type('application/json; charset=utf-8').send(Buffer.from(json.buffer, json.byteOffset, json.byteLength));
}
