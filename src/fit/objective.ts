/**
 * The fit objective, as the reference: Huber (delta 1e-3) of log(observed) - log(pred), summed over
 * points (each weighted by the points it stands for), and the residual model of a law on a set of
 * prepared curves: log predictions and their Jacobian, concatenated over curves.
 */
import type { Law } from '../laws/law.js';
import type { PreparedCurve } from './prepare.js';

export const HUBER_DELTA = 1e-3;

/** Huber loss: e^2/2 inside |e| <= delta, delta (|e| - delta/2) outside. */
export function huber(e: number, delta = HUBER_DELTA): number {
  const a = Math.abs(e);
  return a <= delta ? 0.5 * e * e : delta * (a - 0.5 * delta);
}

/** Sum of weighted Huber losses of `observed - predicted` (log space); NaN/Infinity when a prediction is not positive. */
export function huberObjective(observed: Float64Array, logPred: Float64Array, weight: Float64Array, delta = HUBER_DELTA): number {
  let total = 0;
  for (let i = 0; i < observed.length; i++) total += weight[i]! * huber(observed[i]! - logPred[i]!, delta);
  return Number.isNaN(total) ? Infinity : total;
}

/** The log-space model of a law over several curves, with the data concatenated. */
export interface LogModel {
  readonly nParams: number;
  readonly nPoints: number;
  readonly observed: Float64Array;
  readonly weight: Float64Array;
  /** log pred at every point (NaN where pred <= 0). */
  logPredict(params: ArrayLike<number>): Float64Array;
  /** log pred and d log pred / d params (row-major). */
  logPredictWithJacobian(params: ArrayLike<number>): { logPred: Float64Array; jacobian: Float64Array };
  /** Huber objective at params. */
  objective(params: ArrayLike<number>): number;
}

export function logModel(law: Law<any>, curves: PreparedCurve[], lawOptions?: Record<string, unknown>): LogModel {
  const nParams = law.params.length;
  const nPoints = curves.reduce((n, c) => n + c.steps.length, 0);
  const observed = new Float64Array(nPoints);
  const weight = new Float64Array(nPoints);
  let at = 0;
  for (const c of curves) {
    observed.set(c.logLoss, at);
    weight.set(c.weight, at);
    at += c.steps.length;
  }
  const logPredict = (params: ArrayLike<number>) => {
    const out = new Float64Array(nPoints);
    let offset = 0;
    for (const c of curves) {
      const pred = law.predict(c.curve.lrs, c.steps, params, lawOptions);
      for (let i = 0; i < pred.length; i++) out[offset + i] = pred[i]! > 0 ? Math.log(pred[i]!) : NaN;
      offset += pred.length;
    }
    return out;
  };
  const logPredictWithJacobian = (params: ArrayLike<number>) => {
    const logPred = new Float64Array(nPoints);
    const jacobian = new Float64Array(nPoints * nParams);
    let offset = 0;
    for (const c of curves) {
      const { pred, jacobian: jac } = law.predictWithJacobian(c.curve.lrs, c.steps, params, lawOptions);
      for (let i = 0; i < pred.length; i++) {
        const p = pred[i]!;
        const row = (offset + i) * nParams;
        logPred[offset + i] = p > 0 ? Math.log(p) : NaN;
        for (let j = 0; j < nParams; j++) jacobian[row + j] = jac[i * nParams + j]! / p;
      }
      offset += pred.length;
    }
    return { logPred, jacobian };
  };
  return {
    nParams,
    nPoints,
    observed,
    weight,
    logPredict,
    logPredictWithJacobian,
    objective: (params) => huberObjective(observed, logPredict(params), weight),
  };
}
