/**
 * Which fit options apply to which law and method. An option that the chosen fit would ignore is
 * refused instead (whoever set it meant something by it), and input a fit cannot use is reported
 * against the request field at fault: `FitInputError` carries that field (`options.lambda`,
 * `options.fromStep`, `curves[1]`).
 */
import type { LawId } from '../laws/law.js';
import type { FitOptions } from './types.js';

export class FitInputError extends RangeError {
  /** The request field at fault: `options.<name>`, or `curves[i]` for the i-th curve. */
  readonly field: string;
  constructor(message: string, field: string) {
    super(message);
    this.name = 'FitInputError';
    this.field = field;
  }
}

const MPL_ONLY = ['method', 'adamIterations', 'adamLearningRate', 'adamSpace', 'priorWeight'] as const;
const ADAM_ONLY = ['adamIterations', 'adamLearningRate', 'adamSpace'] as const;
/** Options of the global start + Levenberg-Marquardt refinement, which mpl's adam method does not run. */
const LM_ONLY = ['starts', 'seed', 'maxIterations'] as const;
/** lra's global start is a fixed alpha grid: it samples nothing, so a seed or a sample count would be ignored. */
const LRA_IGNORES = ['starts', 'seed'] as const;
/**
 * Options mpl's reference method does not use: it reproduces the published procedure with its own
 * fixed grid of starts, step sizes, iteration cap, Huber delta and summed objective over every raw
 * point, without bounds on the params (src/fit/reference.ts).
 */
const NOT_REFERENCE = [...LM_ONLY, ...ADAM_ONLY, 'priorWeight', 'curveWeighting', 'huberDelta', 'maxPoints', 'bounds'] as const;
/** Options mpl's map method does not use: it starts from the reference's simplified-model fit (no sampled starts) and runs LM. */
const NOT_MAP = ['starts', 'seed', ...ADAM_ONLY] as const;

/** The first option in `options` that a fit of `lawId` would ignore, as a FitInputError; undefined if none. */
export function inapplicableOption(lawId: LawId, options: FitOptions, defaultMethod: NonNullable<FitOptions['method']>): FitInputError | undefined {
  const given = (name: keyof FitOptions) => options[name] !== undefined;
  const refuse = (name: string, why: string) => new FitInputError(`options.${name} ${why}`, `options.${name}`);
  if (lawId === 'lra') {
    const name = MPL_ONLY.find(given);
    if (name) return refuse(name, 'applies to mpl fits only (lra always fits with Levenberg-Marquardt)');
    const sampling = LRA_IGNORES.find(given);
    if (sampling) return refuse(sampling, 'applies to mpl fits only (lra starts from a fixed grid of alphas with L0, A, C solved exactly: nothing is sampled)');
    return undefined;
  }
  if (given('lambda')) return refuse('lambda', 'applies to lra fits only (the momentum decay of the annealing area)');
  const method = options.method ?? defaultMethod;
  if (method === 'reference') {
    const name = NOT_REFERENCE.find(given);
    if (name) return refuse(name, 'is not used by method "reference", which reproduces the published procedure with its fixed constants (135-start grid, AdamW step sizes, at most 200 iterations, Huber delta 1e-3 summed over every raw point, no bounds)');
  } else if (method === 'map') {
    const name = NOT_MAP.find(given);
    if (name) return refuse(name, 'is not used by method "map" (a start from the reference\'s simplified model, then Levenberg-Marquardt under the prior: see priorWeight, maxIterations)');
    return undefined;
  }
  if (given('priorWeight')) return refuse('priorWeight', 'applies to method "map"');
  if (method === 'adam') {
    const name = LM_ONLY.find(given);
    if (name) return refuse(name, 'applies to method "converged" (global starts + Levenberg-Marquardt); method "adam" runs adamIterations steps from the reference initial guess');
  } else {
    const name = ADAM_ONLY.find(given);
    if (name) return refuse(name, 'applies to method "adam"');
  }
  return undefined;
}
