/**
 * Huber fit through ml-levenberg-marquardt (used for the lra law, whose model is cheap): rounds of
 * iteratively reweighted least squares, each a weighted least-squares LM run of the library with
 * the analytic Jacobian. The point weights (Huber IRLS weight with `delta` times bin count) are
 * folded into the residuals as sqrt(w) * (log obs - log pred), so the library sees an unweighted
 * problem; the objective reported and compared between rounds is the Huber objective with `delta`.
 *
 * Why a second solver: lra's closed-form model is cheap, so the library (a maintained general LM)
 * serves it even though it runs its iteration cap without a convergence test of its own; mpl stays on
 * lm.ts, see there.
 *
 * The library has no convergence test of its own (it runs its iteration cap unless the residual
 * reaches an absolute tolerance), so convergence is judged per round here: converged once a round
 * moves no param by more than 1e-7 relative, or lowers the objective by at most 1e-11 relative.
 * `maxIterations` caps the library iterations over all rounds.
 */
import { levenbergMarquardt } from 'ml-levenberg-marquardt';
import { HUBER_DELTA, huberObjective, type LogModel } from './objective.js';
import type { LmResult } from './lm.js';

export interface MlLmOptions {
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  /** Library iterations over all rounds (default 200). */
  maxIterations?: number;
  /** Huber delta of the IRLS weights and of the objective (default HUBER_DELTA, 1e-3). */
  delta?: number;
}

/** Library iterations per IRLS round: the weights are refreshed this often. */
const ROUND_ITERATIONS = 20;
const PARAM_TOLERANCE = 1e-7;
const OBJECTIVE_TOLERANCE = 1e-11;

export function huberFitWithMlLm(model: LogModel, init: ArrayLike<number>, options: MlLmOptions): LmResult {
  const N = model.nPoints;
  const P = model.nParams;
  const { observed, weight } = model;
  const delta = options.delta ?? HUBER_DELTA;
  const objectiveAt = (p: ArrayLike<number>) => huberObjective(observed, model.logPredict(p), weight, delta);
  const x = Array.from({ length: N }, (_, i) => i);
  const sqrtW = new Float64Array(N);
  let params = Array.from(init, (v, j) => Math.min(options.max[j]!, Math.max(options.min[j]!, v)));
  let objective = objectiveAt(params);
  let iterations = 0;
  let evaluations = 1;
  let converged = false;
  const budget = options.maxIterations ?? 200;
  while (iterations < budget) {
    const logPred = model.logPredict(params);
    for (let i = 0; i < N; i++) {
      const a = Math.abs(observed[i]! - logPred[i]!);
      sqrtW[i] = Math.sqrt(weight[i]! * (a <= delta ? 1 : delta / a));
    }
    const y = Array.from(observed, (v, i) => v * sqrtW[i]!);
    let cacheKey = '';
    let cache: Float64Array = new Float64Array(0);
    const valueAt = (p: number[]) => {
      const key = p.join(',');
      if (key !== cacheKey) {
        cache = model.logPredict(p);
        cacheKey = key;
        evaluations++;
      }
      return cache;
    };
    const result = levenbergMarquardt(
      { x, y },
      (p: number[]) => {
        const lp = valueAt(p);
        return (i: number) => lp[i]! * sqrtW[i]!;
      },
      {
        initialValues: params,
        minValues: Array.from(options.min),
        maxValues: Array.from(options.max),
        maxIterations: Math.min(ROUND_ITERATIONS, budget - iterations),
        damping: 1e-3,
        errorTolerance: 1e-14,
        jacobianFunction: (p: number[]) => {
          const { jacobian } = model.logPredictWithJacobian(p);
          evaluations++;
          return (i: number) => {
            const row = new Array<number>(P);
            for (let j = 0; j < P; j++) row[j] = jacobian[i * P + j]! * sqrtW[i]!;
            return row;
          };
        },
      },
    );
    iterations += result.iterations;
    const next = result.parameterValues;
    const nextObjective = objectiveAt(next);
    const change = Math.max(...next.map((v, j) => Math.abs(v - params[j]!) / (Math.abs(params[j]!) + 1e-12)));
    if (!(Number.isFinite(nextObjective) && nextObjective <= objective)) {
      // The round found nothing better: settled if it barely moved, else stuck.
      converged = change < PARAM_TOLERANCE;
      break;
    }
    const decrease = objective - nextObjective;
    params = next;
    objective = nextObjective;
    if (change < PARAM_TOLERANCE || decrease <= OBJECTIVE_TOLERANCE * objective) {
      converged = true;
      break;
    }
  }
  return { params: Float64Array.from(params), objective, iterations, evaluations, converged };
}
