/**
 * The multi-power law (Luo et al. 2025), with the reference implementation's conventions:
 *
 *   S(s)    = sum_{i=0..s} lr[i]                                   (inclusive)
 *   pred(s) = L0 + A * S(s)^(-alpha)
 *             + B * sum_{k=1..s} (lr[k] - lr[k-1]) * (1 - (1 + C * lr[k]^(-gamma) * (S(s) - S(k-1)))^(-beta))
 *
 * Params `[L0, A, alpha, B, C, beta, gamma]`. Terms with lr[k] = lr[k-1] vanish and are skipped.
 * A step with lr[k] = 0 has C * lr^(-gamma) = infinity: its term is the full (lr[k] - lr[k-1]) once
 * S(s) > S(k-1), and 0 while S(s) = S(k-1) (the 0 * infinity of the formula taken as 0).
 * S(s) = 0 (step 0 of a warmup from 0) predicts +Infinity, as the reference does.
 *
 * Evaluated fast by a far-field series (evaluate.ts, where its error bound is derived); this folder
 * also holds the plain direct sum (direct.ts), the schedule preparation (prepare.ts) and the series
 * coefficients (series.ts).
 */
import type { Law, LawStart, ParamSpec } from '../law.js';
import { predictMpl, predictMplWithJacobian } from './evaluate.js';

export interface MplOptions {
  /** Use the plain direct sum instead of the fast evaluator (slow; for checks). */
  direct?: boolean;
  /** Relative truncation bound of each far-field series (default 1e-9). */
  tolerance?: number;
  /** Far-field acceptance ratio R / (X - z0) (default 0.2). */
  theta?: number;
}

export const MPL_PARAMS: readonly ParamSpec[] = [
  { name: 'L0', init: 3, min: 0, max: 20, domain: 'nonnegative', description: 'irreducible loss', scalesWithLoss: true },
  { name: 'A', init: 0.5, min: 0, max: 50, domain: 'nonnegative', description: 'scale of the power law in the lr sum', scalesWithLr: true, scalesWithLoss: true },
  { name: 'alpha', init: 0.5, min: 0.01, max: 3, domain: 'positive', description: 'exponent of the power law in the lr sum' },
  { name: 'B', init: 300, min: 0, max: 1e5, domain: 'nonnegative', description: 'scale of the loss drop from lr decay', scalesWithLr: true, scalesWithLoss: true },
  { name: 'C', init: 2, min: 1e-3, max: 1e3, domain: 'positive', description: 'rate of the loss drop after an lr change', scalesWithLr: true },
  { name: 'beta', init: 0.5, min: 0.01, max: 5, domain: 'positive', description: 'exponent of the loss drop' },
  { name: 'gamma', init: 0.5, min: 0, max: 1.5, domain: 'nonnegative', description: 'lr dependence of the loss drop rate' },
];

/** L0, A, B: the prediction is linear in them, so they carry the loss's unit. */
const LOSS_LINEAR = new Set([0, 1, 3]);

/**
 * Global start: given alpha, C, beta and gamma the prediction is linear in L0, A and B (B's column is
 * the loss-drop term: the prediction at L0 = A = 0, B = 1). Samples (log C, beta, gamma) in this box,
 * inside the law's bounds.
 */
export const MPL_START: LawStart = {
  linear: [0, 1, 3],
  alpha: 2,
  sampled: [
    { index: 4, range: [Math.log(0.05), Math.log(50)], log: true },
    { index: 5, range: [0.1, 2] },
    { index: 6, range: [0.05, 1.2] },
  ],
  column: (lrs, steps, [C, beta, gamma]) => predictMpl(lrs, steps, [0, 0, 1, 1, C!, beta!, gamma!], { tolerance: 1e-6 }),
};

export const mplLaw: Law<MplOptions> = {
  id: 'mpl',
  title: 'Multi-power law (Luo et al. 2025)',
  params: MPL_PARAMS,
  // Its evaluator options (MplOptions) are numerical settings, not options of a fit.
  options: [],
  fit: { methods: ['map', 'reference', 'adam', 'converged'], defaultMethod: 'map', refine: 'lm', maxIterations: 200 },
  start: MPL_START,
  optimizable: true,
  // The fast evaluator's preparation and moments per step, its near terms per evaluated step.
  predictionCost: { perStepUs: 0.4, perPointUs: 6 },
  predict: predictMpl,
  predictWithJacobian: predictMplWithJacobian,
  // With lr' = k lr: S' = k S, so A' S'^-alpha = A' k^-alpha S^-alpha; the drop term's steps scale by
  // k (B = B' k) and its rate C' lr'^-gamma S' = C' k^(1-gamma) lr^-gamma S.
  rescaleLoss: (params, f) => Array.from(params, (v, j) => (LOSS_LINEAR.has(j) ? v * f : v)),
  rescaleLr: (params, k) => {
    const [L0, A, alpha, B, C, beta, gamma] = Array.from(params) as [number, number, number, number, number, number, number];
    return [L0, A * k ** -alpha, alpha, B * k, C * k ** (1 - gamma), beta, gamma];
  },
};
