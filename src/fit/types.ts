/** Shapes shared by the fitting code: the curves to fit, the options, and the report a fit returns. */
import type { FitMethod, LawId } from '../laws/law.js';
import type { CurveMetrics } from '../laws/metrics.js';

/** One training run: its per-step schedule and the logged losses at `steps`. */
export interface FitCurve {
  id: number | string;
  name: string;
  /** Per-step learning rates, index = step from 0, warmup included. */
  lrs: Float64Array;
  steps: number[];
  loss: number[];
}

export interface FitOptions {
  /** Ignore points before this step (default: none; points with S(s) = 0 are always skipped). */
  fromStep?: number;
  /**
   * At most this many points per curve enter the objective (default 1000). Denser curves are
   * bin-averaged (mean loss of runs of consecutive points, then its log) (each bin weighted by its count).
   */
  maxPoints?: number;
  /** Momentum decay of the lra law (default 0.999; the law declares it: src/laws/lra.ts). */
  lambda?: number;
  /** Seed of the global search (default 1). */
  seed?: number;
  /** Number of global samples of the nonlinear params (default 48). */
  starts?: number;
  /** Cap on the iterations of each local refinement (default 200). */
  maxIterations?: number;
  /** Override the law's bounds of some params by name, e.g. `{ gamma: [0, 1] }`. */
  bounds?: Record<string, [number, number]>;
  /** Also fit with each curve left out and predict it (default true with >= 2 curves). */
  leaveOneOut?: boolean;
  /**
   * mpl only (lra always uses LM). 'adam' (default): projected Adam in log-params from the
   * reference-style initial guess for a fixed budget (early stopping as regularization), chosen by
   * leave-one-curve-out error on training curves (bench/fit-selection.ts). 'converged': global starts
   * + Levenberg-Marquardt to the optimum of the objective (the previous default). 'reference': the
   * published reference procedure reproduced exactly (simplified-model start from a 135-point grid,
   * then AdamW with its early-stopping rule; src/fit/reference.ts): gives the published params.
   */
  method?: FitMethod;
  /**
   * Method 'map': weight of the prior on the loss-drop params (C, beta, gamma), in points of the
   * fit's residual scale (default 100; 0 fits without a prior). See src/fit/map.ts.
   */
  priorWeight?: number;
  /** Adam budget (iterations) of method 'adam' (default 800). */
  adamIterations?: number;
  /** Adam step size of method 'adam' (default 0.01), in the space of `adamSpace`. */
  adamLearningRate?: number;
  /** Where method 'adam' steps: 'log' (log of the positive params, default) or 'raw' (the params as they are). */
  adamSpace?: 'log' | 'raw';
  /**
   * 'points': every point weighs the same; 'equal': each curve's points are averaged, then summed over
   * curves (scaled to keep the objective's overall size). Default 'equal' for method 'adam', else 'points'.
   */
  curveWeighting?: 'points' | 'equal';
  /** Huber delta on log residuals (default 1e-3). */
  huberDelta?: number;
  /**
   * 'relative' (default, except for method 'reference'): fit with the lrs in units of the curves'
   * peak lr and the losses in units of their lowest value, so the fitted curve does not depend on the
   * units of either (every lr x 10, or every loss x 10, gives the same predictions, scaled).
   * 'absolute': the procedure's constants (start grid, step sizes, bounds) apply to the values as
   * given, as the published reference procedure does.
   */
  units?: 'relative' | 'absolute';
}

export interface FitRequest {
  law: LawId;
  curves: FitCurve[];
  options?: FitOptions;
}

export interface ParamEstimate {
  name: string;
  value: number;
  /** Standard error from the Jacobian at the optimum (NaN where it cannot be estimated). */
  stderr: number;
  min: number;
  max: number;
}

export interface CurveFitMetrics {
  id: number | string;
  name: string;
  metrics: CurveMetrics;
}

export interface LeaveOneOutResult {
  curves: CurveFitMetrics[];
  mean: CurveMetrics;
}

export interface FitReport {
  law: LawId;
  params: ParamEstimate[];
  /** Huber objective at the optimum (sum over the fitted points). */
  objective: number;
  iterations: number;
  wallMs: number;
  converged: boolean;
  /** Points that entered the objective (after preprocessing), and how many were given. */
  points: { used: number; given: number };
  /** Metrics of the fit on each curve at its logged steps (after fromStep), and their mean. */
  curves: CurveFitMetrics[];
  mean: CurveMetrics;
  /** With 2+ curves (and leaveOneOut not false): each curve predicted by a fit on the others. */
  leaveOneOut?: LeaveOneOutResult;
  notes: string[];
}
