/**
 * Projected Adam on the Huber objective with a fixed iteration budget (early stopping), the way the
 * reference implementation fits (a gradient optimizer run for a fixed number of iterations, which
 * does not reach the optimum: the budget acts as regularization).
 *
 * Parameterization: params with a non-negative lower bound and a positive start are optimized as
 * log(param) (scale-free steps: every param moves by a relative amount), others as they are; or,
 * with space 'raw', every param as it is. After
 * each step the params are clamped to their bounds. The gradient is the analytic one:
 * d/dp sum_i w_i huber(e_i) = -sum_i w_i psi(e_i) d log pred_i / dp, psi(e) = clamp(e, -delta, delta).
 * Deterministic; the result is the params after the last iteration (not the best seen).
 */
import { HUBER_DELTA, huberObjective, type LogModel } from './objective.js';

export interface AdamOptions {
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  /** Number of Adam steps (the early-stopping budget). */
  iterations: number;
  /** Step size in the (log-)parameterization (default 0.01). */
  learningRate?: number;
  delta?: number;
  beta1?: number;
  beta2?: number;
  /** Called with the params after these iteration counts (for budget selection). */
  checkpoints?: readonly number[];
  /**
   * Step in log(param) for params with a non-negative lower bound and a positive start (default),
   * or in every param as it is ('raw', as a plain gradient optimizer on the params would).
   */
  space?: 'log' | 'raw';
  onCheckpoint?: (iteration: number, params: Float64Array) => void;
  /** Called after every iteration (progress reporting). */
  onIteration?: (iteration: number) => void;
}

export interface AdamResult {
  params: Float64Array;
  objective: number;
  iterations: number;
  evaluations: number;
  /** A fixed budget: "converged" means it ran the budget with a finite objective. */
  converged: boolean;
}

export function adamHuber(model: LogModel, init: ArrayLike<number>, options: AdamOptions): AdamResult {
  const P = model.nParams;
  const N = model.nPoints;
  const delta = options.delta ?? HUBER_DELTA;
  const lr = options.learningRate ?? 0.01;
  const b1 = options.beta1 ?? 0.9;
  const b2 = options.beta2 ?? 0.999;
  const eps = 1e-8;
  const { observed, weight } = model;
  const useLog = Array.from({ length: P }, (_, j) => options.space !== 'raw' && options.min[j]! >= 0 && init[j]! > 0);
  const lo = Array.from({ length: P }, (_, j) => (useLog[j] ? Math.log(Math.max(options.min[j]!, 1e-300)) : options.min[j]!));
  const hi = Array.from({ length: P }, (_, j) => (useLog[j] ? Math.log(options.max[j]!) : options.max[j]!));
  const theta = Float64Array.from({ length: P }, (_, j) => {
    const v = Math.min(options.max[j]!, Math.max(options.min[j]!, init[j]!));
    return useLog[j] ? Math.log(v) : v;
  });
  const toParams = (t: Float64Array) => Float64Array.from(t, (v, j) => (useLog[j] ? Math.exp(v) : v));
  const m = new Float64Array(P);
  const v = new Float64Array(P);
  const grad = new Float64Array(P);
  const checkpoints = new Set(options.checkpoints ?? []);
  let params = toParams(theta);
  let last = params;
  let evaluations = 0;
  let iterations = 0;
  for (let it = 1; it <= options.iterations; it++) {
    const { logPred, jacobian } = model.logPredictWithJacobian(params);
    evaluations++;
    grad.fill(0);
    let finite = true;
    for (let i = 0; i < N; i++) {
      const e = observed[i]! - logPred[i]!;
      if (!Number.isFinite(e)) {
        finite = false;
        break;
      }
      const psi = weight[i]! * (e > delta ? delta : e < -delta ? -delta : e);
      const row = i * P;
      for (let j = 0; j < P; j++) grad[j] = grad[j]! - psi * jacobian[row + j]!;
    }
    if (!finite) break; // keep the last finite params
    last = params;
    for (let j = 0; j < P; j++) {
      const g = useLog[j] ? grad[j]! * params[j]! : grad[j]!;
      m[j] = b1 * m[j]! + (1 - b1) * g;
      v[j] = b2 * v[j]! + (1 - b2) * g * g;
      const mHat = m[j]! / (1 - b1 ** it);
      const vHat = v[j]! / (1 - b2 ** it);
      theta[j] = Math.min(hi[j]!, Math.max(lo[j]!, theta[j]! - (lr * mHat) / (Math.sqrt(vHat) + eps)));
    }
    params = toParams(theta);
    iterations = it;
    if (checkpoints.has(it)) options.onCheckpoint?.(it, params);
    options.onIteration?.(it);
  }
  let objective = huberObjective(observed, model.logPredict(params), weight, delta);
  evaluations++;
  if (!Number.isFinite(objective)) {
    params = last;
    objective = huberObjective(observed, model.logPredict(params), weight, delta);
  }
  return { params, objective, iterations, evaluations, converged: Number.isFinite(objective) };
}
