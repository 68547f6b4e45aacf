/**
 * Levenberg-Marquardt for the Huber objective with the analytic Jacobian, in float64.
 *
 * Each iteration reweights the points as iteratively reweighted least squares does for Huber
 * (weight min(1, delta/|e|), whose quadratic majorizes the Huber loss), solves the damped normal
 * equations (J^T W J + mu diag(J^T W J)) d = J^T W e, clamps to the bounds, and accepts the step
 * when the true Huber objective decreases (damping updated by the gain ratio, Nielsen's rule).
 *
 * Why not ml-levenberg-marquardt (as lra, ml-lm.ts): mpl's model is expensive (a series per step), so
 * mpl needs this solver's convergence test, where the library runs its whole iteration cap.
 */
import { cholesky, choleskySolve } from './dense.js';
import { HUBER_DELTA, huberObjective, type LogModel } from './objective.js';

export interface LmOptions {
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  maxIterations?: number;
  delta?: number;
  /** Params held at their initial value. */
  fixed?: readonly boolean[];
  /** Stop when the objective's relative decrease over an accepted step is below this (default 1e-10). */
  relativeTolerance?: number;
}

export interface LmResult {
  params: Float64Array;
  objective: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

/** IRLS weights of the Huber loss times the point weights. */
function huberWeights(residual: Float64Array, weight: Float64Array, delta: number, out: Float64Array): void {
  for (let i = 0; i < residual.length; i++) {
    const a = Math.abs(residual[i]!);
    out[i] = weight[i]! * (a <= delta ? 1 : delta / a);
  }
}

export function levenbergMarquardtHuber(model: LogModel, init: ArrayLike<number>, options: LmOptions): LmResult {
  const P = model.nParams;
  const N = model.nPoints;
  const delta = options.delta ?? HUBER_DELTA;
  const maxIterations = options.maxIterations ?? 200;
  const relTol = options.relativeTolerance ?? 1e-10;
  const { observed, weight } = model;
  const clamp = (v: number, j: number) => Math.min(options.max[j]!, Math.max(options.min[j]!, v));

  let params = Float64Array.from(init, (v, j) => clamp(v, j));
  let { logPred, jacobian } = model.logPredictWithJacobian(params);
  let evaluations = 1;
  const residual = new Float64Array(N);
  const setResidual = (lp: Float64Array) => {
    for (let i = 0; i < N; i++) residual[i] = observed[i]! - lp[i]!;
  };
  setResidual(logPred);
  let objective = huberObjective(observed, logPred, weight, delta);
  if (!Number.isFinite(objective)) return { params, objective, iterations: 0, evaluations, converged: false };

  const w = new Float64Array(N);
  const normal = new Float64Array(P * P);
  const gradient = new Float64Array(P);
  const damped = new Float64Array(P * P);
  let mu = -1;
  let nu = 2;
  let iterations = 0;
  let converged = false;
  let needNormal = true;

  while (iterations < maxIterations) {
    if (needNormal) {
      huberWeights(residual, weight, delta, w);
      normal.fill(0);
      gradient.fill(0);
      for (let i = 0; i < N; i++) {
        const wi = w[i]!;
        const ei = residual[i]!;
        const row = i * P;
        for (let a = 0; a < P; a++) {
          const ja = jacobian[row + a]! * wi;
          gradient[a] = gradient[a]! + ja * ei;
          for (let b = 0; b <= a; b++) normal[a * P + b] = normal[a * P + b]! + ja * jacobian[row + b]!;
        }
      }
      for (let a = 0; a < P; a++) for (let b = 0; b < a; b++) normal[b * P + a] = normal[a * P + b]!;
      if (options.fixed) {
        for (let a = 0; a < P; a++) {
          if (!options.fixed[a]) continue;
          for (let b = 0; b < P; b++) normal[a * P + b] = normal[b * P + a] = 0;
          normal[a * P + a] = 1;
          gradient[a] = 0;
        }
      }
      if (mu < 0) mu = 1e-3; // relative to diag(J^T W J) (Marquardt scaling)
      needNormal = false;
    }
    iterations++;
    damped.set(normal);
    for (let a = 0; a < P; a++) {
      const d = normal[a * P + a]!;
      damped[a * P + a] = d + mu * Math.max(d, 1e-12 * (1 + d));
    }
    const L = cholesky(damped, P);
    if (!L) {
      mu *= nu;
      nu *= 2;
      if (mu > 1e20) break;
      continue;
    }
    const step = choleskySolve(L, P, gradient);
    const trial = new Float64Array(P);
    const actualStep = new Float64Array(P);
    let stepSize = 0;
    for (let j = 0; j < P; j++) {
      trial[j] = clamp(params[j]! + step[j]!, j);
      actualStep[j] = trial[j]! - params[j]!;
      stepSize = Math.max(stepSize, Math.abs(actualStep[j]!) / (Math.abs(params[j]!) + 1e-12));
    }
    // Predicted decrease of the reweighted quadratic model: g.d - d.A.d/2.
    let predicted = 0;
    for (let a = 0; a < P; a++) {
      let ad = 0;
      for (let b = 0; b < P; b++) ad += normal[a * P + b]! * actualStep[b]!;
      predicted += gradient[a]! * actualStep[a]! - 0.5 * actualStep[a]! * ad;
    }
    if (stepSize < 1e-14) {
      converged = true;
      break;
    }
    const next = model.logPredictWithJacobian(trial);
    evaluations++;
    const trialObjective = huberObjective(observed, next.logPred, weight, delta);
    if (Number.isFinite(trialObjective) && trialObjective < objective) {
      const decrease = objective - trialObjective;
      const rho = predicted > 0 ? decrease / predicted : 1;
      params = trial;
      logPred = next.logPred;
      jacobian = next.jacobian;
      setResidual(logPred);
      const previous = objective;
      objective = trialObjective;
      needNormal = true;
      mu *= Math.max(1 / 3, 1 - (2 * rho - 1) ** 3);
      nu = 2;
      if (decrease <= relTol * previous || stepSize < 1e-10) {
        converged = true;
        break;
      }
    } else {
      mu *= nu;
      nu *= 2;
      if (mu > 1e16) {
        // No decrease along any damped step: at a (numerical) minimum.
        converged = true;
        break;
      }
    }
  }
  return { params, objective, iterations, evaluations, converged };
}
