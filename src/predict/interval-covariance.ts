/**
 * Parameter covariance of a fit, for prediction intervals: a Laplace approximation at the fitted
 * params whose spread comes from blocks of residuals (a block sandwich, the analytic counterpart of
 * refitting on block-bootstrap resamples of the residuals).
 *
 * The fit's objective is rebuilt as fitLaw prepares it (same preprocessing, binning, curve weighting
 * and law options; src/fit/fit-law.ts) and its log-space Jacobian J taken at the params. With W the
 * point weights, e the log residuals and H = J^T W J + H_prior (the Gauss-Newton curvature of the
 * report's standard errors, plus, for method 'map', its prior's curvature on log C, beta and gamma
 * at the strength the fit used, src/fit/map.ts):
 *
 *   blocks = 0:  Cov = s^2 H^-1,  s^2 = sum W e^2 / (sum W - P)     (plain Laplace)
 *   blocks = B:  Cov = H^-1 M H^-1,  M = sum_b g_b g_b^T,  g_b = sum_{i in b} W_i e_i J_i
 *
 * where the blocks cut each curve's points (in step order) into B runs of equal count. A smooth
 * misfit (residuals of one sign over thousands of steps, the rule on loss curves) makes the residuals
 * far from independent; the plain Laplace form then counts every point as new evidence and is too
 * narrow, the block form is not (DEFAULT_BLOCKS per curve: bench/intervals.ts). A drop shape the data
 * do not identify (a fit on cosine runs alone) keeps the prior's width instead of a singular matrix.
 * H is scaled to a unit diagonal before it is inverted; a singular one gets the smallest ridge that
 * makes it invertible. Cost: one Jacobian of the fit's points, once per fit (tens of ms).
 */
import { spdInverse } from '../fit/dense.js';
import { curveWeightingOf, equalCurveWeights, peakLrOf, REFERENCE_LOSS, REFERENCE_PEAK_LR, unitsOf } from '../fit/fit-law.js';
import { MAP_DEFAULTS, MAP_PRIOR } from '../fit/map.js';
import { logModel, type LogModel } from '../fit/objective.js';
import { methodOf } from '../fit/options.js';
import { DEFAULT_MAX_POINTS, prepareCurve, type PreparedCurve } from '../fit/prepare.js';
import type { FitRequest } from '../fit/types.js';
import { getLaw, lawOptionsOf, type Law } from '../laws/index.js';

/** Residual blocks per fitted curve of the default covariance. */
export const DEFAULT_BLOCKS = 10;

export interface ParamCovariance {
  /** P x P, nested arrays, in the params' own units (JSON-storable). */
  covariance: number[][];
  /** Root mean square of the fit's log residuals (weighted as the objective weighs its points). */
  residualScale: number;
  /** Points (weighted count) the fit's objective holds. */
  points: number;
}

/** The fit's curves as its objective holds them (see the file comment) and the objective's model. */
export function fitObjectiveModel(request: FitRequest): { prepared: PreparedCurve[]; model: LogModel } {
  const options = request.options ?? {};
  const law = getLaw(request.law);
  const maxPoints = methodOf(request.law, options) === 'reference' ? Infinity : (options.maxPoints ?? DEFAULT_MAX_POINTS);
  let prepared = request.curves.map((c) => prepareCurve(c, options.fromStep ?? 0, maxPoints)).filter((c) => c.steps.length > 0);
  if (curveWeightingOf(request.law, options) === 'equal' && prepared.length > 1) prepared = equalCurveWeights(prepared);
  return { prepared, model: logModel(law, prepared, lawOptionsOf(law, options as Record<string, unknown>)) };
}

/**
 * The params in the units the fit worked in (src/fit/fit-law.ts, fitInUnits): relative units (the
 * default) divide the lrs by the curves' peak lr (times REFERENCE_PEAK_LR) and the losses by their
 * lowest value (times REFERENCE_LOSS); absolute units leave them as they are.
 */
function fitUnits(request: FitRequest, prepared: PreparedCurve[], law: Law<any>): (params: ArrayLike<number>) => number[] {
  const peak = peakLrOf(prepared.map((c) => c.curve));
  let lowestLog = Infinity;
  for (const c of prepared) for (const v of c.logLoss) if (v < lowestLog) lowestLog = v;
  if (unitsOf(request.law, request.options ?? {}) === 'absolute' || !(peak > 0) || !Number.isFinite(lowestLog)) return (p) => Array.from(p);
  const factor = REFERENCE_PEAK_LR / peak;
  const lossFactor = REFERENCE_LOSS / Math.exp(lowestLog);
  return (p) => law.rescaleLr(law.rescaleLoss(p, lossFactor), 1 / factor);
}

/** d convert(p)[j] / d p[a] (row-major), by central differences. */
function unitsJacobian(convert: (p: ArrayLike<number>) => number[], params: ArrayLike<number>): Float64Array {
  const P = params.length;
  const out = new Float64Array(P * P);
  for (let a = 0; a < P; a++) {
    const h = 1e-6 * Math.max(Math.abs(params[a]!), 1e-8);
    const up = Array.from(params);
    const down = Array.from(params);
    up[a] = up[a]! + h;
    down[a] = down[a]! - h;
    const fu = convert(up);
    const fd = convert(down);
    for (let j = 0; j < P; j++) out[j * P + a] = (fu[j]! - fd[j]!) / (2 * h);
  }
  return out;
}

/** Inverse of a symmetric positive semi-definite matrix, with the smallest ridge (on its unit-scaled diagonal) that makes it invertible. */
function ridgeInverse(matrix: Float64Array, P: number): Float64Array {
  const scale = Float64Array.from({ length: P }, (_, a) => Math.sqrt(matrix[a * P + a]!) || 1);
  const scaled = matrix.map((v, k) => v / (scale[Math.floor(k / P)]! * scale[k % P]!));
  for (let ridge = 0; ridge <= 1; ridge = ridge === 0 ? 1e-12 : ridge * 10) {
    const m = scaled.slice();
    for (let a = 0; a < P; a++) m[a * P + a] = m[a * P + a]! + ridge;
    const inverse = spdInverse(m, P);
    if (inverse) return inverse.map((v, k) => v / (scale[Math.floor(k / P)]! * scale[k % P]!));
  }
  return new Float64Array(P * P).fill(NaN);
}

/** a b c for P x P row-major matrices. */
function product3(a: Float64Array, b: Float64Array, c: Float64Array, P: number): Float64Array {
  const ab = new Float64Array(P * P);
  for (let i = 0; i < P; i++) for (let k = 0; k < P; k++) for (let j = 0; j < P; j++) ab[i * P + j] = ab[i * P + j]! + a[i * P + k]! * b[k * P + j]!;
  const out = new Float64Array(P * P);
  for (let i = 0; i < P; i++) for (let k = 0; k < P; k++) for (let j = 0; j < P; j++) out[i * P + j] = out[i * P + j]! + ab[i * P + k]! * c[k * P + j]!;
  return out;
}

/** The covariance of the params `params` fitted to `request` (see the file comment). */
export function parameterCovariance(request: FitRequest, params: ArrayLike<number>, blocks: number = DEFAULT_BLOCKS): ParamCovariance {
  const law = getLaw(request.law);
  const options = request.options ?? {};
  const { prepared, model } = fitObjectiveModel(request);
  const P = model.nParams;
  const { logPred, jacobian } = model.logPredictWithJacobian(params);
  const residual = Float64Array.from(model.observed, (y, i) => y - logPred[i]!);
  const normal = new Float64Array(P * P);
  let sse = 0;
  let count = 0;
  for (let i = 0; i < model.nPoints; i++) {
    const w = model.weight[i]!;
    const e = residual[i]!;
    if (!Number.isFinite(e)) continue;
    sse += w * e * e;
    count += w;
    for (let a = 0; a < P; a++) {
      const ja = w * jacobian[i * P + a]!;
      for (let b = 0; b < P; b++) normal[a * P + b] = normal[a * P + b]! + ja * jacobian[i * P + b]!;
    }
  }
  if (methodOf(request.law, options) === 'map') {
    // The prior rows of src/fit/prior.ts, strength * z^2 / 2 with z = (f(q) - centre) / width, at the
    // strength map.ts sets (priorWeight points of the fit's residual scale). q are the params in the
    // units the fit worked in (relative units: C's value there also depends on gamma), so the
    // gradient of z is carried to the params as given through that change of units.
    const priorWeight = options.priorWeight ?? MAP_DEFAULTS.priorWeight;
    const strength = count > 0 ? (priorWeight * 2 * model.objective(params)) / count : 0;
    const toFitUnits = fitUnits(request, prepared, law);
    const q = toFitUnits(params);
    const dq = unitsJacobian(toFitUnits, params);
    law.params.forEach((spec, j) => {
      const prior = MAP_PRIOR[spec.name];
      if (!prior || !(strength > 0)) return;
      const dzdq = (prior.log ? 1 / q[j]! : 1) / prior.width;
      const grad = Array.from({ length: P }, (_, a) => dzdq * dq[j * P + a]!);
      for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) normal[a * P + b] = normal[a * P + b]! + strength * grad[a]! * grad[b]!;
    });
  }
  const inverse = ridgeInverse(normal, P);
  let matrix: Float64Array;
  if (blocks > 0) {
    const meat = new Float64Array(P * P);
    const g = new Float64Array(P);
    let offset = 0;
    for (const c of prepared) {
      const n = c.steps.length;
      for (let k = 0; k < blocks; k++) {
        g.fill(0);
        for (let i = offset + Math.floor((k * n) / blocks); i < offset + Math.floor(((k + 1) * n) / blocks); i++) {
          const e = residual[i]!;
          if (!Number.isFinite(e)) continue;
          for (let a = 0; a < P; a++) g[a] = g[a]! + model.weight[i]! * e * jacobian[i * P + a]!;
        }
        for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) meat[a * P + b] = meat[a * P + b]! + g[a]! * g[b]!;
      }
      offset += n;
    }
    matrix = product3(inverse, meat, inverse, P);
  } else {
    const s2 = count > P ? sse / (count - P) : NaN;
    matrix = inverse.map((v) => s2 * v);
  }
  const covariance = Array.from({ length: P }, (_, a) => Array.from({ length: P }, (_, b) => matrix[a * P + b]!));
  return { covariance, residualScale: count > 0 ? Math.sqrt(sse / count) : NaN, points: count };
}
