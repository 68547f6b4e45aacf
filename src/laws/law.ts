/**
 * The interface every loss-curve law implements (one file per law in this folder).
 *
 * Conventions shared by all laws: `lrs` is the per-step learning rate indexed by step from 0,
 * warmup included (see src/schedule/expand.ts); `steps` are the steps to predict the loss at.
 *
 * A law declares everything the rest of the service needs to know about it: its params, its options
 * (`options`, e.g. lra's `lambda`), the fit methods it supports (`fit`), how a global start solves
 * for some of its params (`start`) and whether a schedule can be optimized under it (`optimizable`).
 * Routes, request schemas and the fit code read these instead of comparing law ids.
 */
import type { LawId } from './ids.js';

export type { LawId } from './ids.js';

/** One parameter of a law, as lmfit declares them: name, initial value, bounds. */
export interface ParamSpec {
  name: string;
  init: number;
  /** Bounds of a fit (defaults; a fit's options may override them). */
  min: number;
  max: number;
  /** Where the law is meaningful at all (wider than the fit bounds): values outside are refused. */
  domain: 'nonnegative' | 'positive';
  description: string;
  /** Its value depends on the unit of the lrs (see `Law.rescaleLr`); fit bounds on it are then in that unit. */
  scalesWithLr?: boolean;
  /** Its value scales with the unit of the loss (see `Law.rescaleLoss`). */
  scalesWithLoss?: boolean;
}

/** The params outside their law's domain, as "name >= 0" / "name > 0" (empty when all are inside). */
export function outOfDomain(specs: readonly ParamSpec[], params: ArrayLike<number>): string[] {
  return specs.flatMap((spec, i) => {
    const v = params[i]!;
    if (spec.domain === 'positive') return v > 0 ? [] : [`${spec.name} > 0`];
    return v >= 0 ? [] : [`${spec.name} >= 0`];
  });
}

/**
 * An option of a law's predictions, set per fit (and per prediction) but not fitted, e.g. lra's
 * `lambda`. A fit's options and a prediction's query carry it under its name.
 */
export interface LawOption {
  readonly name: string;
  readonly default: number;
  /** JSON schema of its value (the routes validate requests with it). */
  readonly schema: { readonly type: 'number'; readonly exclusiveMinimum?: number; readonly exclusiveMaximum?: number; readonly minimum?: number; readonly maximum?: number };
  /** Why `value` cannot be used, or undefined when it can (the same rule as `schema`). */
  validate(value: unknown): string | undefined;
  /** What it is, e.g. "the momentum decay of the annealing area". */
  readonly description: string;
  /** What it is in a few words, e.g. "momentum decay". */
  readonly summary: string;
}

/** The fit methods of src/fit (see FitOptions.method). */
export const FIT_METHODS = ['map', 'reference', 'adam', 'converged'] as const;
export type FitMethod = (typeof FIT_METHODS)[number];

/** How a law is fitted (src/fit/fit-law.ts). */
export interface LawFit {
  /** The methods it can be fitted with; with just one, a fit's `method` option does not apply. */
  readonly methods: readonly FitMethod[];
  readonly defaultMethod: FitMethod;
  /** Why the options of methods it lacks do not apply (e.g. "lra always fits with Levenberg-Marquardt"). */
  readonly methodsNote?: string;
  /**
   * Local refinement of method 'converged': 'lm' (src/fit/lm.ts) or 'ml-lm' (the library's
   * Levenberg-Marquardt in Huber reweighting rounds, src/fit/ml-lm.ts), and its default iteration cap.
   */
  readonly refine: 'lm' | 'ml-lm';
  readonly maxIterations: number;
}

/** A nonlinear param that a global start samples, uniformly in `range` (of its log when `log`). */
export interface SampledParam {
  /** Index in the law's params. */
  readonly index: number;
  readonly range: readonly [number, number];
  readonly log?: boolean;
}

/**
 * The global start of a fit (src/fit/start.ts). The law is linear in three params given the others:
 * pred = p[linear[0]] + p[linear[1]] * S^-alpha + p[linear[2]] * column, where S is the lr sum, alpha
 * the param at `alpha`, and `column` depends on the `sampled` params (and the law's options) only.
 * The start solves the linear params by weighted least squares over a grid of alphas times samples of
 * the `sampled` params (none: the alpha grid alone). Every other param starts at its `init`.
 */
export interface LawStart {
  readonly linear: readonly [number, number, number];
  readonly alpha: number;
  readonly sampled: readonly SampledParam[];
  /** Why a fit samples nothing, when `sampled` is empty (the fit's `starts` and `seed` options then do not apply). */
  readonly fixedNote?: string;
  /** The third basis column at `steps` of `lrs` for the sampled values (in `sampled`'s order). */
  column(lrs: Float64Array, steps: ArrayLike<number>, sampled: readonly number[], options?: Record<string, unknown>): Float64Array;
}

/** What one prediction costs (one core, warm): per step of the schedule and per step evaluated; sizes /predict requests. */
export interface PredictionCost {
  readonly perStepUs: number;
  readonly perPointUs: number;
}

export interface Law<Options = Record<string, unknown>> {
  readonly id: LawId;
  readonly title: string;
  readonly params: readonly ParamSpec[];
  /** Options of its predictions (defaults, validation): fits and predictions take them by name. */
  readonly options: readonly LawOption[];
  readonly fit: LawFit;
  readonly start: LawStart;
  /** Whether a schedule can be optimized under it (src/optimize; the optimizer evaluates mpl). */
  readonly optimizable: boolean;
  /** Its measured prediction cost, rounded up (src/predict/budget.ts places and bounds requests by it). */
  readonly predictionCost: PredictionCost;
  /** Predicted loss at each of `steps` for the schedule `lrs`. */
  predict(lrs: Float64Array, steps: ArrayLike<number>, params: ArrayLike<number>, options?: Options): Float64Array;
  /**
   * Predictions and their analytic derivatives: `jacobian[i * P + j] = d pred[i] / d params[j]`
   * (row-major, P = params.length).
   */
  predictWithJacobian(
    lrs: Float64Array,
    steps: ArrayLike<number>,
    params: ArrayLike<number>,
    options?: Options,
  ): { pred: Float64Array; jacobian: Float64Array };
  /**
   * Params fitted to schedules whose every lr was multiplied by `factor`, expressed for the
   * schedules as they are: `predict(lrs, ..., rescaleLr(p, k))` equals `predict(k * lrs, ..., p)`
   * exactly in real arithmetic. Lets a fit work in units of the curves' peak lr (unit-free fits).
   */
  rescaleLr(params: ArrayLike<number>, factor: number): number[];
  /** Params for losses multiplied by `factor` (the prediction is linear in the params flagged scalesWithLoss). */
  rescaleLoss(params: ArrayLike<number>, factor: number): number[];
}

/**
 * The law's options for a fit with options `given` (its own options by name, with their defaults):
 * undefined for a law without options.
 */
export function lawOptionsOf(law: Law<any>, given: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  if (law.options.length === 0) return undefined;
  return Object.fromEntries(law.options.map((o) => [o.name, given[o.name] ?? o.default]));
}
