/**
 * The momentum law of Tissue et al. 2024 ("Scaling law with learning rate annealing"):
 *
 *   pred(s) = L0 + A * S1(s)^(-alpha) - C * S2(s)
 *   S1(s)   = sum_{i<=s} lr[i]                          (inclusive, as in mpl)
 *   S2(s)   = sum_{i<=s} m_i,  m_i = lambda * m_{i-1} + (lr[i-1] - lr[i]),  m_0 = 0
 *
 * Params `[L0, A, alpha, C]`; `lambda` (default 0.999) is an option, not fitted. O(steps) per call.
 */
import type { Law, LawOption, ParamSpec } from './law.js';
import { cumulativeLr } from './mpl/index.js';

export interface LraOptions {
  /** Momentum decay of the annealing area (default 0.999). */
  lambda?: number;
}

export const LRA_DEFAULT_LAMBDA = 0.999;

/** L0, A, C: the prediction is linear in them, so they carry the loss's unit. */
const LOSS_LINEAR = new Set([0, 1, 3]);

export const LRA_PARAMS: readonly ParamSpec[] = [
  { name: 'L0', init: 3, min: 0, max: 20, domain: 'nonnegative', description: 'irreducible loss', scalesWithLoss: true },
  { name: 'A', init: 0.5, min: 0, max: 50, domain: 'nonnegative', description: 'scale of the power law in the lr sum', scalesWithLr: true, scalesWithLoss: true },
  { name: 'alpha', init: 0.5, min: 0.01, max: 3, domain: 'positive', description: 'exponent of the power law in the lr sum' },
  { name: 'C', init: 0.5, min: 0, max: 1e4, domain: 'nonnegative', description: 'loss drop per unit of annealing area', scalesWithLr: true, scalesWithLoss: true },
];

/** The annealing area S2(s) for every step of the schedule. */
export function annealingArea(lrs: Float64Array, lambda = LRA_DEFAULT_LAMBDA): Float64Array {
  const area = new Float64Array(lrs.length);
  let momentum = 0;
  let total = 0;
  for (let i = 1; i < lrs.length; i++) {
    momentum = lambda * momentum + (lrs[i - 1]! - lrs[i]!);
    total += momentum;
    area[i] = total;
  }
  return area;
}

function areas(lrs: Float64Array, options?: LraOptions): { s1: Float64Array; s2: Float64Array } {
  return { s1: cumulativeLr(lrs), s2: annealingArea(lrs, options?.lambda ?? LRA_DEFAULT_LAMBDA) };
}

function stepIndex(step: number, total: number): number {
  if (!Number.isInteger(step) || step < 0 || step >= total) throw new RangeError(`step ${step} is outside the schedule (0..${total - 1})`);
  return step;
}

export function predictLra(lrs: Float64Array, steps: ArrayLike<number>, params: ArrayLike<number>, options?: LraOptions): Float64Array {
  return predictLraWithJacobian(lrs, steps, params, options, false).pred;
}

export function predictLraWithJacobian(
  lrs: Float64Array,
  steps: ArrayLike<number>,
  params: ArrayLike<number>,
  options?: LraOptions,
  withJacobian = true,
): { pred: Float64Array; jacobian: Float64Array } {
  if (params.length !== 4) throw new RangeError(`lra takes 4 params [L0, A, alpha, C], got ${params.length}`);
  const [L0, A, alpha, C] = [params[0]!, params[1]!, params[2]!, params[3]!];
  const { s1, s2 } = areas(lrs, options);
  const pred = new Float64Array(steps.length);
  const jacobian = new Float64Array(withJacobian ? steps.length * 4 : 0);
  for (let i = 0; i < steps.length; i++) {
    const s = stepIndex(steps[i]!, lrs.length);
    const power = s1[s]! ** -alpha;
    pred[i] = L0 + A * power - C * s2[s]!;
    if (withJacobian) {
      jacobian[i * 4] = 1;
      jacobian[i * 4 + 1] = power;
      jacobian[i * 4 + 2] = -A * Math.log(s1[s]!) * power;
      jacobian[i * 4 + 3] = -s2[s]!;
    }
  }
  return { pred, jacobian };
}

/** `lambda`, the momentum decay of the annealing area: in (0, 1), default 0.999. */
export const LRA_LAMBDA: LawOption = {
  name: 'lambda',
  default: LRA_DEFAULT_LAMBDA,
  schema: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
  validate: (value) => (typeof value === 'number' && value > 0 && value < 1 ? undefined : 'must be a number in (0, 1)'),
  description: 'the momentum decay of the annealing area',
  summary: 'momentum decay',
};

export const lraLaw: Law<LraOptions> = {
  id: 'lra',
  title: 'Momentum law with lr annealing (Tissue et al. 2024)',
  params: LRA_PARAMS,
  options: [LRA_LAMBDA],
  // The library's LM takes small steps: about 260 iterations to settle on the 25M training curves.
  fit: { methods: ['converged'], defaultMethod: 'converged', methodsNote: 'lra always fits with Levenberg-Marquardt', refine: 'ml-lm', maxIterations: 500 },
  // Given alpha the prediction is linear in L0, A and C (C's column is -S2): the start is a grid of
  // alphas, nothing sampled.
  start: {
    linear: [0, 1, 3],
    alpha: 2,
    sampled: [],
    fixedNote: 'lra starts from a fixed grid of alphas with L0, A, C solved exactly: nothing is sampled',
    column: (lrs, steps, _sampled, options) => {
      const S2 = annealingArea(lrs, (options?.lambda as number | undefined) ?? LRA_DEFAULT_LAMBDA);
      return Float64Array.from(steps, (s) => -S2[s]!);
    },
  },
  // Its optimum is degenerate: it always prefers decaying to zero at once.
  optimizable: false,
  // Two running sums per step, a lookup per evaluated step.
  predictionCost: { perStepUs: 0.04, perPointUs: 0.1 },
  predict: predictLra,
  predictWithJacobian: (lrs, steps, params, options) => predictLraWithJacobian(lrs, steps, params, options),
  // With lr' = k lr, both areas scale by k: A = A' k^-alpha, C = C' k.
  rescaleLoss: (params, f) => Array.from(params, (v, j) => (LOSS_LINEAR.has(j) ? v * f : v)),
  rescaleLr: (params, k) => {
    const [L0, A, alpha, C] = Array.from(params) as [number, number, number, number];
    return [L0, A * k ** -alpha, alpha, C * k];
  },
};
