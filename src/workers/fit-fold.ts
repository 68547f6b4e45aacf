/**
 * One leave-one-curve-out fold with the 80% prediction interval's coverage of the curve left out:
 * the fold's fit (the main fit's procedure on the other curves, as leaveOneOutFold makes it) gives
 * the held-out metrics, and its interval basis the share of the held-out points inside the 80%
 * interval (src/predict/interval.ts), an honest check of the intervals on the user's own curves.
 *
 * The fold is fitted with fitMain on the other curves: each curve is prepared on its own
 * (src/fit/prepare.ts), so its params, and then its metrics, are those of leaveOneOutFold bit for bit,
 * and the params are at hand for the basis. Where fitMain refuses the subset (too few points left for
 * the law's params, which leaveOneOutFold fits anyway), the fold falls back to leaveOneOutFold,
 * without coverage. Coverage costs the basis (35-200 ms) and one interval at the curve's points.
 */
import { evaluateMetrics, fitMain, FitInputError, leaveOneOutFold, usablePoints, type CurveFitMetrics, type FitCurve, type FitProgress, type FitReport, type FitRequest } from '../fit/index.js';
import { getLaw, lawOptionsOf } from '../laws/index.js';
import { intervalBasisOf } from '../predict/interval-basis.js';
import { predictionInterval } from '../predict/interval.js';

/** The level of the leave-one-out coverage figure. */
export const FOLD_INTERVAL_LEVEL = 0.8;

export interface FoldResult {
  metrics: CurveFitMetrics;
  /** Share of the held-out curve's usable points inside the fold's 80% interval; null when not computed. */
  coverage80: number | null;
}

/** Share of `curve`'s usable points (from `fromStep`) inside the FOLD_INTERVAL_LEVEL interval of the fit `report` made for `request`. */
function heldOutCoverage(request: FitRequest, report: Pick<FitReport, 'params'>, curve: FitCurve): number | null {
  const fromStep = request.options?.fromStep ?? 0;
  const { steps, loss } = usablePoints(curve, fromStep);
  if (steps.length === 0) return null;
  const basis = intervalBasisOf(request, report);
  const { lower, upper } = predictionInterval(getLaw(request.law), basis, curve.lrs, steps, FOLD_INTERVAL_LEVEL);
  let inside = 0;
  loss.forEach((y, i) => {
    if (y >= lower[i]! && y <= upper[i]!) inside++;
  });
  return inside / steps.length;
}

/** Fold `fold` of `request` (see the file comment). */
export function foldWithCoverage(request: FitRequest, fold: number, onProgress?: FitProgress): FoldResult {
  const held = request.curves[fold];
  if (!held) return { metrics: leaveOneOutFold(request, fold, onProgress), coverage80: null }; // its RangeError
  const options = request.options ?? {};
  const others: FitRequest = { ...request, curves: request.curves.filter((_, k) => k !== fold), options: { ...options, leaveOneOut: false } };
  let report;
  try {
    report = fitMain(others, onProgress);
  } catch (error) {
    if (error instanceof FitInputError) return { metrics: leaveOneOutFold(request, fold, onProgress), coverage80: null };
    throw error;
  }
  const law = getLaw(request.law);
  const params = report.params.map((p) => p.value);
  const lawOptions = lawOptionsOf(law, options as Record<string, unknown>);
  const metrics = { id: held.id, name: held.name, metrics: evaluateMetrics(law, params, held, { fromStep: options.fromStep, lawOptions }) };
  let coverage80: number | null = null;
  try {
    coverage80 = heldOutCoverage(others, report, held);
  } catch {
    // The coverage is a figure beside the metrics: a basis that cannot be built leaves it out, not the fold.
  }
  return { metrics, coverage80 };
}
