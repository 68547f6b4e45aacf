/**
 * Method 'map' of mpl fits: the maximum a posteriori params under a weak prior on the shape of the
 * loss drop (C, beta, gamma), run to convergence. It replaces the accidental regularization of an
 * early-stopped optimizer (whose result depends on its step sizes, its budget and the lr unit) by a
 * stated one.
 *
 * 1. Start: the reference's simplified-model start (reference.ts, step 1: 135 grid starts of
 *    L0 + A S1^-alpha - B (peak - lr), each minimized) for L0, A, alpha, B; C, beta, gamma at the
 *    prior's centres.
 * 2. Levenberg-Marquardt (lm.ts) on the fit's Huber objective plus the prior (prior.ts). The prior
 *    is Gaussian in (log C, beta, gamma), centred on the params published for the 25M and 100M
 *    training curves of Luo et al. 2025 (their only fitted values we ship; the fit works in units of
 *    the curves' peak lr, 3e-4 there, so the centres carry to other peaks), widths below. Its weight
 *    is `priorWeight` pseudo-points of the fit's own residual scale: strength = priorWeight * s^2 with
 *    s^2 = 2 * objective / points at the current params, so the prior counts for the same as
 *    priorWeight typical points whatever the noise of the curves; s^2 is taken at the start, then
 *    once more at the first optimum and the fit refined from there.
 */
import type { Law } from '../laws/law.js';
import { levenbergMarquardtHuber } from './lm.js';
import { huberObjective, type LogModel } from './objective.js';
import type { PreparedCurve } from './prepare.js';
import { withPrior, type ParamPrior } from './prior.js';
import { referenceSimplifiedStart, simplifiedPoints } from './reference.js';

/** Prior of the loss-drop params, by name: centre and width (of log(param) where `log`). */
export const MAP_PRIOR: Readonly<Record<string, { centre: number; width: number; log: boolean }>> = {
  C: { centre: Math.log(2.1), width: 1, log: true },
  beta: { centre: 0.59, width: 0.2, log: false },
  gamma: { centre: 0.65, width: 0.2, log: false },
};

/** priorWeight 1 and curves weighted equally: chosen on the transfer benchmark (bench/results/fit-selection.md). */
export const MAP_DEFAULTS = { priorWeight: 1, maxIterations: 200 } as const;

export interface MapOptions {
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  delta: number;
  priorWeight?: number;
  maxIterations?: number;
  /** Progress as the fraction done (the start, then each of the two LM passes). */
  onProgress?: (fraction: number) => void;
}

export interface MapResult {
  params: Float64Array;
  /** The data objective (without the prior) at the params. */
  objective: number;
  iterations: number;
  converged: boolean;
  notes: string[];
}

/** The MAP fit of `law` (mpl) on `prepared`, whose objective is `model`. See the file comment. */
export function fitMap(law: Law<any>, prepared: PreparedCurve[], model: LogModel, options: MapOptions): MapResult {
  const priorWeight = options.priorWeight ?? MAP_DEFAULTS.priorWeight;
  const maxIterations = options.maxIterations ?? MAP_DEFAULTS.maxIterations;
  const priors: ParamPrior[] = law.params.flatMap((p, index) => {
    const prior = MAP_PRIOR[p.name];
    return prior ? [{ index, ...prior }] : [];
  });
  // The simplified model on the fitted points (bin means where binned).
  const simplified = referenceSimplifiedStart(simplifiedPoints(prepared.map((c) => ({ lrs: c.curve.lrs, steps: c.steps, loss: Float64Array.from(c.logLoss, Math.exp) }))));
  const start = law.params.map((p, j) => {
    const prior = MAP_PRIOR[p.name];
    const value = prior ? (prior.log ? Math.exp(prior.centre) : prior.centre) : j < simplified.params.length ? simplified.params[j]! : p.init;
    return Math.min(options.max[j]!, Math.max(options.min[j]!, value));
  });
  let totalWeight = 0;
  for (const w of model.weight) totalWeight += w;
  const strengthAt = (params: ArrayLike<number>) => {
    const objective = model.objective(params);
    return Number.isFinite(objective) ? (priorWeight * 2 * objective) / totalWeight : 0;
  };
  let params: Float64Array = Float64Array.from(start);
  let iterations = 0;
  let converged = false;
  const notes = [`map: start L0, A, alpha, B from the reference's simplified model [${Array.from(simplified.params, (v) => v.toPrecision(5)).join(', ')}], C, beta, gamma at the prior centres`];
  for (let pass = 0; pass < 2; pass++) {
    options.onProgress?.((1 + pass) / 3);
    const strength = strengthAt(params);
    if (priorWeight > 0 && !(strength > 0)) break;
    const result = levenbergMarquardtHuber(withPrior(model, priors, strength, options.delta), params, {
      min: options.min,
      max: options.max,
      maxIterations,
      delta: options.delta,
    });
    iterations += result.iterations;
    converged = result.converged;
    if (Number.isFinite(result.objective)) params = result.params;
  }
  // The data's Huber objective with the fit's delta (the report's objective), without the prior.
  const objective = huberObjective(model.observed, model.logPredict(params), model.weight, options.delta);
  notes.push(
    `map: prior on ${priors.map((p) => `${MAP_PRIOR[law.params[p.index]!.name]!.log ? `log ${law.params[p.index]!.name}` : law.params[p.index]!.name} ~ N(${p.centre.toPrecision(3)}, ${p.width})`).join(', ')} weighing ${priorWeight} points of the fit's residual scale; Levenberg-Marquardt to convergence`,
  );
  return { params, objective, iterations, converged: converged && Number.isFinite(objective), notes };
}
