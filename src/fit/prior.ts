/**
 * A weak Gaussian prior on some params of a fit, as extra rows of its log-space model, so any
 * least-squares solver of the Huber objective (lm.ts) finds the maximum a posteriori params.
 *
 * Row j holds the standardized deviation z_j = (f(p_j) - centre_j) / width_j (f = log for params
 * that live on a log scale) as a residual c * z_j with weight strength / c^2: its Huber loss is
 * strength * z_j^2 / 2 while |z_j| <= delta / c = 8 (a Gaussian prior in practice) and grows only
 * linearly beyond (a prior that data far from it can still overrule).
 */
import { huberObjective, type LogModel } from './objective.js';

export interface ParamPrior {
  /** Index of the param in the law's params. */
  index: number;
  centre: number;
  width: number;
  /** The prior is on log(param) (params that scale multiplicatively). */
  log: boolean;
}

/** The model with one prior row per entry of `priors`, each weighing `strength` (in objective units). */
export function withPrior(model: LogModel, priors: readonly ParamPrior[], strength: number, delta: number): LogModel {
  const N = model.nPoints;
  const P = model.nParams;
  const K = priors.length;
  const c = delta / 8;
  const observed = new Float64Array(N + K);
  observed.set(model.observed);
  const weight = new Float64Array(N + K);
  weight.set(model.weight);
  weight.fill(strength / (c * c), N);
  const z = (prior: ParamPrior, params: ArrayLike<number>) => ((prior.log ? Math.log(params[prior.index]!) : params[prior.index]!) - prior.centre) / prior.width;
  const logPredict = (params: ArrayLike<number>) => {
    const out = new Float64Array(N + K);
    out.set(model.logPredict(params));
    priors.forEach((prior, k) => {
      out[N + k] = c * z(prior, params);
    });
    return out;
  };
  const logPredictWithJacobian = (params: ArrayLike<number>) => {
    const inner = model.logPredictWithJacobian(params);
    const logPred = new Float64Array(N + K);
    logPred.set(inner.logPred);
    const jacobian = new Float64Array((N + K) * P);
    jacobian.set(inner.jacobian);
    priors.forEach((prior, k) => {
      logPred[N + k] = c * z(prior, params);
      jacobian[(N + k) * P + prior.index] = (c / prior.width) * (prior.log ? 1 / params[prior.index]! : 1);
    });
    return { logPred, jacobian };
  };
  const objective = (params: ArrayLike<number>) => huberObjective(observed, logPredict(params), weight, delta);
  return { nParams: P, nPoints: N + K, observed, weight, logPredict, logPredictWithJacobian, objective };
}
