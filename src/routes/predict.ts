/**
 * GET /predict: the loss curve a law predicts for a schedule. Parameters come from a stored
 * fit (`fit=ID`) or directly (`law=mpl&params=...`); the schedule from a spec (`schedule=`)
 * or a stored curve (`curve=ID`, then also the metrics against its points).
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, found } from '../errors.js';
import { getLaw, LAW_IDS, LAW_OPTIONS, lawsWithOption, outOfDomain, type ParamSpec } from '../laws/index.js';
import { evaluateMetrics } from '../fit/index.js';
import type { LawId } from '../laws/law.js';
import { withLrSchedule } from '../curves/schedule.js';
import type { Curve } from '../store/types.js';
import { evenSteps, sampleSteps } from '../schedule/expand.js';
import { expandScheduleCached } from '../schedule/cache.js';
import { parseSchedule, formatSchedule } from '../schedule/spec.js';
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
}

/** Default number of evenly spaced steps in a predicted curve (plus the last step). */
export const DEFAULT_POINTS = 500;

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

/** The first step whose lr sum S(s) is positive (lrs are >= 0): before it the laws predict an infinite loss. */
function firstLiveStep(lrs: Float64Array): number {
  const first = lrs.findIndex((lr) => lr > 0);
  return first < 0 ? lrs.length : first;
}

function parseSteps(raw: string, total: number): number[] {
  return raw.split(',').map((text) => {
    const s = text.trim() === '' ? NaN : Number(text);
    if (!Number.isInteger(s) || s < 0 || s >= total) throw badRequest(`steps: "${text}" is not a step of the schedule (an integer in 0..${total - 1})`, 'steps');
    return s;
  });
}

type Store = FastifyInstance['store'];

/** The fit a prediction's parameters came from. */
interface FitInfo {
  id: number;
  maxLr: number;
  maxSteps: number;
}

/** The law and its parameters and options, from fit= or law=&params= (and the query's options). */
interface LawChoice {
  lawId: LawId;
  params: number[];
  lawOptions: Record<string, unknown>;
  fitInfo?: FitInfo;
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
    return { lawId, params: fit.params, lawOptions, fitInfo: { id: fit.id, maxLr: fit.maxLr, maxSteps: fit.maxSteps } };
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

/** The schedule: its lrs, its canonical spec (null for a curve without one) and the curve it came from. */
interface ScheduleChoice {
  lrs: Float64Array;
  scheduleText: string | null;
  curve?: Curve & { lrSchedule: Float64Array };
}

/** Which schedule: a spec (`schedule=`) or a stored curve's (`curve=ID`). */
async function resolveSchedule(store: Store, q: PredictQuery): Promise<ScheduleChoice> {
  if ((q.schedule === undefined) === (q.curve === undefined)) throw badRequest('give exactly one of schedule=SPEC or curve=ID', 'schedule');
  if (q.schedule !== undefined) {
    const spec = parseSchedule(q.schedule);
    return { lrs: expandScheduleCached(spec), scheduleText: formatSchedule(spec) };
  }
  const curve = withLrSchedule(found(await store.curves.get(q.curve!), 'curve', q.curve!, 'curve'));
  // In the same canonical form as a given spec's echo.
  const scheduleText = curve.schedule === null ? null : formatSchedule(parseSchedule(curve.schedule));
  return { lrs: curve.lrSchedule, scheduleText, curve };
}

/** At which steps: steps=, every=N, the curve's own steps, or an even grid; `live` is the first step with S(s) > 0. */
function chooseSteps(q: PredictQuery, lrs: Float64Array, curve: ScheduleChoice['curve']): { steps: number[]; live: number } {
  const total = lrs.length;
  if (q.steps !== undefined && q.every !== undefined) throw badRequest('give steps=... or every=N, not both', 'steps');
  // The default grids leave out the steps before any lr was applied (S(s) = 0, e.g. step 0 of a
  // warmup from 0), where the laws predict an infinite loss.
  const live = firstLiveStep(lrs);
  const fromLive = (grid: number[]) => (grid.some((s) => s >= live) ? grid.filter((s) => s >= live) : grid.slice(-1));
  let steps: number[];
  if (q.steps !== undefined) steps = parseSteps(q.steps, total);
  else if (q.every !== undefined) steps = fromLive(sampleSteps(total, q.every));
  else if (curve) steps = [...curve.points.steps];
  else steps = fromLive(evenSteps(total, DEFAULT_POINTS));
  return { steps, live };
}

/** Extrapolation beyond the fit's data, and non-finite predictions at `withFinal` (the requested steps and the last). */
function predictionWarnings(lrs: Float64Array, fitInfo: FitInfo | undefined, withFinal: number[], predicted: ArrayLike<number>, live: number): string[] {
  const total = lrs.length;
  const warnings: string[] = [];
  if (fitInfo) {
    let peak = 0;
    for (const lr of lrs) if (lr > peak) peak = lr;
    if (peak > fitInfo.maxLr * (1 + 1e-9)) {
      warnings.push(`the schedule's peak lr ${peak} exceeds the largest lr the fit saw (${fitInfo.maxLr}): an extrapolation`);
    }
    if (total > 4 * fitInfo.maxSteps) {
      warnings.push(`the schedule has ${total} steps, over 4x the longest fitted curve (${fitInfo.maxSteps}): an extrapolation`);
    }
  }
  // Non-finite predictions (null in the JSON) among the requested steps and the last step.
  const notFinite = withFinal.filter((_, i) => !Number.isFinite(predicted[i]!));
  const beforeLr = notFinite.filter((s) => s < live);
  if (beforeLr.length > 0) {
    warnings.push(`the loss is infinite (null) at ${beforeLr.length} step(s) before any lr was applied (S(s) = 0), from step ${beforeLr[0]}`);
  }
  const unsuited = notFinite.length - beforeLr.length;
  if (unsuited > 0) warnings.push(`the predicted loss is not finite (null) at ${unsuited} step(s): the parameters do not suit this schedule`);
  return warnings;
}

/** The predicted curve for a query: the response body. */
async function predict(store: Store, q: PredictQuery): Promise<Record<string, unknown>> {
  const { lawId, params, lawOptions, fitInfo } = await resolveLaw(store, q);
  const law = getLaw(lawId);
  const { lrs, scheduleText, curve } = await resolveSchedule(store, q);
  const total = lrs.length;
  const { steps, live } = chooseSteps(q, lrs, curve);
  const withFinal = steps[steps.length - 1] === total - 1 ? steps : [...steps, total - 1];

  const predicted = law.predict(lrs, withFinal, params, lawOptions);
  const loss = Array.from(predicted.subarray(0, steps.length));
  const finalLoss = predicted[withFinal.length - 1]!;

  const response: Record<string, unknown> = {
    law: lawId,
    params: Object.fromEntries(law.params.map((p, i) => [p.name, params[i]])),
    ...(fitInfo ? { fit: fitInfo.id } : {}),
    schedule: scheduleText,
    totalSteps: total,
    steps,
    loss,
    final: { step: total - 1, loss: finalLoss },
    warnings: predictionWarnings(lrs, fitInfo, withFinal, predicted, live),
  };
  if (curve) {
    const observed = { steps: Array.from(curve.points.steps), loss: Array.from(curve.points.losses) };
    response.curve = curve.id;
    response.observed = observed;
    response.metrics = evaluateMetrics(law, params, { id: curve.id, name: curve.name, lrs, ...observed }, { lawOptions });
  }
  return response;
}

export default async function predictRoutes(app: FastifyInstance) {
  const { store } = app;
  app.get<{ Querystring: PredictQuery }>('/predict', { schema: contract.predict }, async (request) => predict(store, request.query));
}
