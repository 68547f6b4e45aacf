/**
 * The forecast of a live run: the law's prediction of the rest of the run under its planned
 * schedule (src/curves/plan.ts), with the params of a stored fit or of a cheap fit of the run's own
 * points so far (plus other curves) made on the fit pool, the interval where the fit has a basis, and
 * the history of the predicted final loss as points arrived.
 */
import { HttpProblem, badRequest, found } from '../errors.js';
import { getLaw, lawOptionsOf, type LawId } from '../laws/index.js';
import { plannedRun } from '../curves/plan.js';
import { withLrSchedule } from '../curves/schedule.js';
import { FitInputError, type FitCurve, type FitRequest } from '../fit/index.js';
import { predictionInterval } from '../predict/interval.js';
import type { IntervalBasis } from '../predict/interval-basis.js';
import { lawPredictionCost } from '../predict/budget.js';
import { checkWork } from '../predict/limits.js';
import type { FitPool } from '../workers/fit-pool.js';
import type { Curve, Store, StoredFit } from '../store/types.js';

/** What a forecast needs from the app: the store, the ad hoc fitter, and a stored fit's interval basis (stored or rebuilt). */
export interface ForecastDeps {
  store: Store;
  fitter: LiveFitter;
  basisOf: (fit: StoredFit) => Promise<IntervalBasis | null>;
}

/** Forecasts kept per curve and source (the `history` of an answer). */
export const HISTORY_KEPT = 20;

export interface ForecastQuery {
  fit?: number;
  law?: LawId;
  /** Comma-separated curve ids (law only). */
  with?: string;
  interval?: number;
  points?: number;
}

/** The params a forecast predicts with, and where they came from. */
interface LawSource {
  source: string;
  fitId?: number;
  law: LawId;
  params: number[];
  lawOptions: Record<string, unknown>;
  /** null: no interval basis (a fit stored before intervals); see the hook in intervalFor. */
  basis: IntervalBasis | null;
}

/**
 * Cheap options for the ad hoc fit of a live run, refitted as points arrive: 100 binned points per
 * curve, at most 50 LM iterations, no leave-one-out. About 0.2-1.2 s for mpl, 0.2-0.5 s for lra
 * (1 to 4 curves of 24k steps), against 1-2 s with the defaults, for final losses within about 0.5%.
 */
const LIVE_FIT_OPTIONS = { leaveOneOut: false, maxPoints: 100, maxIterations: 50 } as const;

/**
 * Ad hoc fits of live runs on the fit pool, remembered by run state (curve, its point count and last
 * step, law, other curves), so repeated forecasts between appends fit once.
 */
export class LiveFitter {
  private readonly fits = new Map<string, Promise<LawSource>>();
  private static readonly KEPT = 32;

  constructor(private readonly pool: () => FitPool) {}

  fit(curve: Curve, law: LawId, others: Curve[]): Promise<LawSource> {
    const withIds = others.map((c) => c.id);
    const source = `law:${law}${withIds.length ? ` with:${withIds.join(',')}` : ''}`;
    const key = JSON.stringify([curve.id, curve.createdAt, curve.pointCount, curve.lastStep, source, others.map((c) => c.pointCount)]);
    let entry = this.fits.get(key);
    if (!entry) {
      entry = this.run(curve, law, others, source);
      this.fits.set(key, entry);
      entry.catch(() => this.fits.delete(key));
      if (this.fits.size > LiveFitter.KEPT) this.fits.delete(this.fits.keys().next().value!);
    }
    return entry;
  }

  private async run(curve: Curve, law: LawId, others: Curve[], source: string): Promise<LawSource> {
    const curves: FitCurve[] = [curve, ...others].map((c) => {
      const withLrs = withLrSchedule(c);
      return { id: c.id, name: c.name, lrs: withLrs.lrSchedule, steps: Array.from(c.points.steps), loss: Array.from(c.points.losses) };
    });
    const request: FitRequest = { law, curves, options: { ...LIVE_FIT_OPTIONS } };
    try {
      const { report, basis } = await this.pool().runWithBasis(request);
      const params = report.params.map((p) => p.value);
      return { source, law, params, lawOptions: lawOptionsOf(getLaw(law), request.options as Record<string, unknown>) ?? {}, basis };
    } catch (error) {
      if (error instanceof FitInputError) {
        // curves[0] is the run itself, curves[k] the k-th curve of `with`.
        const field = error.field.replace(/^curves\[(\d+)\]/, (_, k: string) => (k === '0' ? 'id' : `with[${Number(k) - 1}]`)).replace(/^options\..*/, 'law');
        throw new HttpProblem(400, `the run cannot be fitted yet: ${error.message}`, field);
      }
      if (error instanceof RangeError) throw new HttpProblem(400, `the run cannot be fitted yet: ${error.message}`, 'law');
      throw error;
    }
  }
}

/** The law source of a query: a stored fit, or an ad hoc fit of the run (400/404 naming the field at fault). */
async function lawSource({ store, fitter, basisOf }: ForecastDeps, curve: Curve, q: ForecastQuery): Promise<LawSource> {
  if ((q.fit === undefined) === (q.law === undefined)) throw badRequest('give exactly one of fit=ID or law=mpl|lra', 'fit');
  if (q.fit !== undefined) {
    if (q.with !== undefined) throw badRequest('with= applies to law= only (a stored fit was fitted on its own curves)', 'with');
    const fit = found(await store.fits.get(q.fit), 'fit', q.fit, 'fit');
    const lawOptions = lawOptionsOf(getLaw(fit.law), fit.options) ?? {};
    const basis = q.interval === undefined ? null : await basisOf(fit);
    return { source: `fit:${fit.id}`, fitId: fit.id, law: fit.law, params: fit.params, lawOptions, basis };
  }
  const withIds = q.with === undefined ? [] : q.with.split(',').map(Number);
  if (withIds.includes(curve.id)) throw badRequest(`with lists the run itself (curve ${curve.id})`, 'with');
  const others: Curve[] = [];
  for (const [i, id] of withIds.entries()) others.push(found(await store.curves.get(id), 'curve', id, `with[${i}]`));
  return fitter.fit(curve, q.law!, others);
}

/** `count` steps from `first` to `last`, evenly spaced, both included (fewer when the range is short). */
function forecastSteps(first: number, last: number, count: number): number[] {
  const steps: number[] = [];
  for (let k = 0; k < count; k++) {
    const s = Math.round(first + ((last - first) * k) / (count - 1));
    if (steps[steps.length - 1] !== s) steps.push(s);
  }
  return steps;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** The forecast of `curve` for query `q`, its history updated: the GET /curves/{id}/forecast answer. */
export async function computeForecast(deps: ForecastDeps, curve: Curve, q: ForecastQuery, defaultPoints: number): Promise<Record<string, unknown>> {
  const run = plannedRun(curve);
  const src = await lawSource(deps, curve, q);
  const law = getLaw(src.law);
  const total = run.lrs.length;
  const steps = forecastSteps(curve.lastStep, total - 1, q.points ?? defaultPoints);
  const size = { totalSteps: total, scheduleField: 'curve', expansionUsPerStep: 0, points: steps.length, pointsField: 'default', observedPoints: 0 } as const;
  checkWork(src.law, lawPredictionCost(law), size, curve.id);
  const loss = law.predict(run.lrs, steps, src.params, src.lawOptions);
  const warnings: string[] = [];
  const band = intervalFor(src, law, run.lrs, steps, loss, q.interval, warnings);
  const last = steps.length - 1;
  const final = { step: total - 1, loss: finite(loss[last]!), ...(band ? { lower: finite(band.lower[last]!), upper: finite(band.upper[last]!) } : {}) };
  const history = await recordHistory(deps.store, curve, src.source, final);
  return {
    curve: curve.id,
    source: src.source,
    ...(src.fitId !== undefined ? { fit: src.fitId } : {}),
    law: src.law,
    params: Object.fromEntries(law.params.map((p, i) => [p.name, src.params[i]])),
    plan: run.plan,
    totalSteps: total,
    lastStep: curve.lastStep,
    pointCount: curve.pointCount,
    steps,
    loss: Array.from(loss, finite),
    ...(band ? { level: band.level, lower: Array.from(band.lower, finite), upper: Array.from(band.upper, finite) } : {}),
    final,
    history,
    warnings,
  };
}

/**
 * The interval at `level` when asked for and the source has a basis (a stored fit's, rebuilt on the
 * fit pool for a fit stored before intervals; an ad hoc fit's, built beside it). Without one: a warning.
 */
function intervalFor(src: LawSource, law: ReturnType<typeof getLaw>, lrs: Float64Array, steps: number[], loss: Float64Array, level: number | undefined, warnings: string[]) {
  if (level === undefined) return undefined;
  if (!src.basis) {
    warnings.push(`no interval: the ${src.fitId !== undefined ? `fit ${src.fitId}` : 'fit of the run'} has no interval basis`);
    return undefined;
  }
  return predictionInterval(law, src.basis, lrs, steps, level, { loss });
}

/** Keep this forecast when the run has new points since the last one from the same source; the recent ones, oldest first. */
async function recordHistory(store: Store, curve: Curve, source: string, final: { step: number; loss: number | null; lower?: number | null; upper?: number | null }) {
  const recent = await store.curves.forecasts(curve.id, source, HISTORY_KEPT);
  const latest = recent[recent.length - 1];
  if (!latest || latest.pointCount !== curve.pointCount || latest.lastStep !== curve.lastStep || latest.finalStep !== final.step) {
    await store.curves.addForecast(
      curve.id,
      { source, pointCount: curve.pointCount, lastStep: curve.lastStep, finalStep: final.step, finalLoss: final.loss, lower: final.lower ?? null, upper: final.upper ?? null },
      HISTORY_KEPT,
    );
  }
  const kept = await store.curves.forecasts(curve.id, source, HISTORY_KEPT);
  return kept.map(({ source: _s, ...entry }) => entry);
}
