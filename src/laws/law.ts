/**
 * The interface every loss-curve law implements (one file per law in this folder).
 *
 * Conventions shared by all laws: `lrs` is the per-step learning rate indexed by step from 0,
 * warmup included (see src/schedule/expand.ts); `steps` are the steps to predict the loss at.
 */

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

export interface Law<Options = Record<string, unknown>> {
  readonly id: LawId;
  readonly title: string;
  readonly params: readonly ParamSpec[];
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

export type LawId = 'mpl' | 'lra';
