/**
 * fitLaw: fit a loss-curve law to one or more curves sharing its params, as the reference does
 * (Huber of log residuals), and report the params with standard errors, per-curve metrics and,
 * with 2+ curves, leave-one-curve-out metrics.
 *
 * Procedure: preprocess the points (prepare.ts). Every method but 'reference' works in relative units
 * (fitInUnits: the curves' peak lr and lowest loss; unit-free). mpl by default (method 'map', map.ts): the reference's
 * simplified-model start, then Levenberg-Marquardt under a weak prior on the loss-drop shape (chosen
 * on the transfer benchmark, bench/fit-selection.ts). Method 'reference' (reference.ts): the
 * published procedure. Method 'adam': curves weighted equally, projected Adam steps in log-params
 * from the reference initial guess for a fixed budget (adam.ts). Method 'converged' (and lra always): sample global starts with the linear params solved exactly
 * (start.ts), refine the best few with Levenberg-Marquardt on the analytic Jacobian (lm.ts for mpl;
 * ml-levenberg-marquardt for lra, ml-lm.ts) and keep the lowest objective. Deterministic for a given
 * input and seed. A fit that cannot converge returns its best point with `converged: false`.
 */
import { getLaw } from '../laws/index.js';
import { lawOptionsOf as lawOptionsFor, type Law, type LawId } from '../laws/law.js';
import { meanMetrics } from '../laws/metrics.js';
import { spdInverse } from './dense.js';
import { evaluateMetrics } from './evaluate.js';
import { levenbergMarquardtHuber, type LmResult } from './lm.js';
import { huberFitWithMlLm } from './ml-lm.js';
import { HUBER_DELTA, huberObjective, logModel, type LogModel } from './objective.js';
import { DEFAULT_MAX_POINTS, prepareCurve, type PreparedCurve } from './prepare.js';
import { ALPHA_GRID, constantPartGuess, globalStarts } from './start.js';
import { adamHuber } from './adam.js';
import { fitReference, REFERENCE } from './reference.js';
import { fitMap } from './map.js';
import { FitInputError, inapplicableOption, methodOf } from './options.js';
import type { CurveFitMetrics, FitCurve, FitOptions, FitReport, FitRequest, ParamEstimate } from './types.js';

/**
 * Defaults of the fit procedures; each law declares its own default method and iteration cap of
 * method 'converged' (its `fit`, src/laws/). mpl fits with method 'map' (map.ts: the reference's
 * simplified-model start, then Levenberg-Marquardt under a weak prior on the loss-drop shape, in
 * units of the curves' peak lr), chosen on the transfer benchmark's aggregate over 20 protocols of real runs (bench/fit-selection.ts,
 * figures in bench/results/fit-selection.md) against the reference procedure, the early-stopped Adam
 * of earlier versions ('adam') and the unregularized global fit ('converged').
 */
export const FIT_DEFAULTS = {
  seed: 1,
  starts: 48,
  keep: 2,
  adamIterations: 800,
  adamLearningRate: 0.01,
} as const;

/** The method a request uses (the law's default; a law with one method, as lra, always uses it). */
export { methodOf };

/** Curve weighting: 'equal' by default for the map and adam methods (as selected), 'points' otherwise. */
export function curveWeightingOf(lawId: LawId, options: FitOptions): 'points' | 'equal' {
  const method = methodOf(lawId, options);
  return options.curveWeighting ?? (method === 'adam' || method === 'map' ? 'equal' : 'points');
}

/** Reweight so each curve's points sum to the same total (mean per curve, then sum), keeping the overall scale. */
export function equalCurveWeights(prepared: PreparedCurve[]): PreparedCurve[] {
  const total = prepared.reduce((t, c) => t + c.weight.reduce((a, b) => a + b, 0), 0);
  return prepared.map((c) => {
    const own = c.weight.reduce((a, b) => a + b, 0);
    const scale = total / prepared.length / own;
    return { ...c, weight: Float64Array.from(c.weight, (w) => w * scale) };
  });
}

/** The reference's start: L0/A/alpha from the constant-lr part, the loss-drop params at the law's initial values. */
export function referenceStart(law: Law<any>, prepared: PreparedCurve[]): number[] {
  const init = law.params.map((p) => p.init);
  const g = constantPartGuess(prepared);
  if (g) {
    init[0] = g.L0;
    init[1] = g.A;
    init[2] = g.alpha;
  }
  return init;
}

interface CoreFit {
  params: Float64Array;
  objective: number;
  iterations: number;
  converged: boolean;
  model: LogModel;
  notes: string[];
}

/** The law's options (lra: lambda) as the fit's options set them, with the law's defaults. */
function lawOptionsOf(lawId: LawId, options: FitOptions): Record<string, unknown> | undefined {
  return lawOptionsFor(getLaw(lawId), options as Record<string, unknown>);
}

/** The law's bounds with the overrides of `options.bounds`. */
export function boundsOf(law: Law<any>, options: FitOptions): { min: number[]; max: number[] } {
  const min = law.params.map((p) => options.bounds?.[p.name]?.[0] ?? p.min);
  const max = law.params.map((p) => options.bounds?.[p.name]?.[1] ?? p.max);
  return { min, max };
}

/** Progress of one fit, as the fraction done (0..1). */
export type FitProgress = (fraction: number) => void;

/** The curves as the objective weighs them, and the objective's log-space model. */
function objectiveModel(lawId: LawId, law: Law<any>, preparedIn: PreparedCurve[], options: FitOptions): { prepared: PreparedCurve[]; model: LogModel } {
  const prepared = curveWeightingOf(lawId, options) === 'equal' && preparedIn.length > 1 ? equalCurveWeights(preparedIn) : preparedIn;
  return { prepared, model: logModel(law, prepared, lawOptionsOf(lawId, options)) };
}

/**
 * The peak lr and the loss scale at which the fit procedures' constants were set (the reference's
 * start grid and step sizes, the laws' initial values and bounds): the 25M/100M curves of Luo et al.
 * 2025 peak at 3e-4 and end near 3 nats.
 */
export const REFERENCE_PEAK_LR = 3e-4;
export const REFERENCE_LOSS = 3;

/** 'relative' (unit-free) unless the method reproduces the reference as published, or the caller says otherwise. */
export function unitsOf(lawId: LawId, options: FitOptions): 'relative' | 'absolute' {
  return options.units ?? (methodOf(lawId, options) === 'reference' ? 'absolute' : 'relative');
}

/** The largest lr of the fitted schedules (over every step). */
export function peakLrOf(curves: readonly { lrs: Float64Array }[]): number {
  let peak = 0;
  for (const c of curves) for (const lr of c.lrs) if (lr > peak) peak = lr;
  return peak;
}

/** Grid of the lrs in units of the peak (2^-28 of the peak, about 4e-9): see fitInUnits. */
const LR_GRID = 2 ** 28;

/**
 * fitPrepared in relative units (`units: 'relative'`, the default): every lr becomes
 * REFERENCE_PEAK_LR * (lr / peak lr) and every loss REFERENCE_LOSS * (loss / lowest loss) before the
 * fit, and the law converts the fitted params back (`rescaleLr`, `rescaleLoss`). So the result does
 * not depend on the units of the lrs or of the loss (every lr x 10 gives the same predictions, every
 * loss x 10 predictions x 10), where the procedures' constants (start grids, step sizes, bounds)
 * would otherwise favour one scale. lr / peak is rounded to a grid of 2^-28: lrs x 10 and lrs differ
 * in their last bits after the division, and an early-stopped optimizer (which does not settle at an
 * optimum) carries last-bit differences of its input into the 1e-6 digits of its params; on the grid
 * both give the same bits, and the rounding (at most 2e-9 of the peak) is far below any loss signal.
 */
function fitInUnits(lawId: LawId, law: Law<any>, prepared: PreparedCurve[], options: FitOptions, onProgress?: FitProgress): CoreFit {
  const peak = peakLrOf(prepared.map((c) => c.curve));
  let lowestLog = Infinity;
  for (const c of prepared) for (const v of c.logLoss) if (v < lowestLog) lowestLog = v;
  if (unitsOf(lawId, options) === 'absolute' || !(peak > 0) || !Number.isFinite(lowestLog)) return fitPrepared(lawId, law, prepared, options, onProgress);
  const inUnits = (lr: number) => (Math.round((lr / peak) * LR_GRID) / LR_GRID) * REFERENCE_PEAK_LR;
  const lossFactor = REFERENCE_LOSS / Math.exp(lowestLog);
  const logShift = Math.log(lossFactor);
  const scaled = prepared.map((c) => ({
    ...c,
    logLoss: c.logLoss.map((v) => v + logShift),
    curve: { ...c.curve, lrs: c.curve.lrs.map(inUnits), loss: c.curve.loss.map((y) => y * lossFactor) },
  }));
  const core = fitPrepared(lawId, law, scaled, options, onProgress);
  const factor = REFERENCE_PEAK_LR / peak;
  const params = Float64Array.from(law.rescaleLoss(law.rescaleLr(core.params, factor), 1 / lossFactor));
  const notes = [
    ...core.notes,
    `fitted in relative units (lrs: peak ${peak.toPrecision(6)} -> ${REFERENCE_PEAK_LR}; losses: lowest ${Math.exp(lowestLog).toPrecision(6)} -> ${REFERENCE_LOSS}); params converted back`,
  ];
  return { ...core, params, model: objectiveModel(lawId, law, prepared, options).model, notes };
}

/** Global starts then local refinement on prepared curves; never throws for numerical trouble. */
function fitPrepared(lawId: LawId, law: Law<any>, preparedIn: PreparedCurve[], options: FitOptions, onProgress?: FitProgress): CoreFit {
  const lawOptions = lawOptionsOf(lawId, options);
  const { prepared, model } = objectiveModel(lawId, law, preparedIn, options);
  const { min, max } = boundsOf(law, options);
  const notes: string[] = [];
  const delta = options.huberDelta ?? HUBER_DELTA;
  if (methodOf(lawId, options) === 'reference') {
    // The published procedure on every raw point (unbinned), with its own fixed constants (reference.ts).
    const onIteration = onProgress && ((i: number) => onProgress((i + 1) / REFERENCE.maxIterations));
    const result = fitReference(preparedIn, { fromStep: options.fromStep, onIteration });
    // prepareRequest leaves the reference's points unbinned, and it weighs every point the same: `model` is over the raw points.
    return { params: result.params, objective: result.objective, iterations: result.iterations, converged: result.converged, model, notes: result.notes };
  }
  if (methodOf(lawId, options) === 'map') {
    const result = fitMap(law, prepared, model, { min, max, delta, priorWeight: options.priorWeight, maxIterations: options.maxIterations, onProgress });
    return { ...result, model, notes: result.notes };
  }
  if (methodOf(lawId, options) === 'adam') {
    const start = referenceStart(law, prepared);
    const iterations = options.adamIterations ?? FIT_DEFAULTS.adamIterations;
    const learningRate = options.adamLearningRate ?? FIT_DEFAULTS.adamLearningRate;
    // The gradient steps do not need the evaluator's 1e-9 series tolerance.
    const fastModel = logModel(law, prepared, { tolerance: 1e-7 });
    const space = options.adamSpace ?? 'log';
    const onIteration = onProgress && ((it: number) => onProgress(it / iterations));
    const result = adamHuber(fastModel, start, { min, max, iterations, learningRate, delta, space, onIteration });
    notes.push(`adam: ${iterations} iterations (step ${learningRate} in ${space === 'log' ? 'log-params' : 'raw params'}) from the reference initial guess [${start.map((v) => v.toPrecision(4)).join(', ')}]`);
    const objective = huberObjective(model.observed, model.logPredict(result.params), model.weight, delta);
    return { params: result.params, objective, iterations: result.iterations, converged: result.converged && Number.isFinite(objective), model, notes };
  }
  let best: LmResult | null = null;
  let iterations = 0;
  const consider = (result: LmResult) => {
    iterations += result.iterations;
    if (!best || result.objective < best.objective || (!Number.isFinite(best.objective) && Number.isFinite(result.objective))) best = result;
  };
  let starts: number[][] = [];
  try {
    const global = globalStarts(law, prepared, {
      seed: options.seed ?? FIT_DEFAULTS.seed,
      samples: options.starts ?? FIT_DEFAULTS.starts,
      keep: FIT_DEFAULTS.keep,
      lawOptions,
      delta,
    });
    starts = [...starts, ...global.starts.map((s) => s.params)];
    if (global.constantGuess) {
      const g = global.constantGuess;
      notes.push(`constant-lr part initial guess: L0=${g.L0.toPrecision(5)}, A=${g.A.toPrecision(5)}, alpha=${g.alpha.toPrecision(3)} (joins the alpha grid)`);
    }
  } catch (error) {
    notes.push(`global start failed (${(error as Error).message}); starting from the law's initial values`);
  }
  if (starts.length === 0) starts.push(law.params.map((p) => p.init));
  for (const [index, start] of starts.entries()) {
    onProgress?.(index / starts.length);
    try {
      const maxIterations = options.maxIterations ?? law.fit.maxIterations;
      consider(
        law.fit.refine === 'ml-lm'
          ? huberFitWithMlLm(model, start, { min, max, maxIterations, delta })
          : levenbergMarquardtHuber(model, start, { min, max, maxIterations, delta }),
      );
    } catch (error) {
      notes.push(`a local refinement failed: ${(error as Error).message}`);
    }
  }
  onProgress?.(1);
  const chosen = best as LmResult | null;
  if (!chosen) {
    const params = Float64Array.from(starts[0]!);
    return { params, objective: huberObjective(model.observed, model.logPredict(params), model.weight, delta), iterations, converged: false, model, notes };
  }
  return { params: chosen.params, objective: chosen.objective, iterations, converged: chosen.converged && Number.isFinite(chosen.objective), model, notes };
}

/**
 * Standard errors sigma^2 (J^T W J)^-1 with J the Jacobian of the log residuals at the optimum, W the
 * point weights (bin counts) and sigma^2 = sum W e^2 / (points - params). Params at a bound get NaN
 * only if the matrix is singular.
 */
function standardErrors(model: LogModel, params: Float64Array): Float64Array {
  const P = model.nParams;
  const N = model.nPoints;
  const { logPred, jacobian } = model.logPredictWithJacobian(params);
  const normal = new Float64Array(P * P);
  let sse = 0;
  let count = 0;
  for (let i = 0; i < N; i++) {
    const w = model.weight[i]!;
    const e = model.observed[i]! - logPred[i]!;
    sse += w * e * e;
    count += w;
    for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) normal[a * P + b] = normal[a * P + b]! + w * jacobian[i * P + a]! * jacobian[i * P + b]!;
  }
  const out = new Float64Array(P).fill(NaN);
  if (count <= P) return out;
  // Scale to unit diagonal before inverting (params differ by orders of magnitude).
  const scale = Float64Array.from({ length: P }, (_, a) => Math.sqrt(normal[a * P + a]!) || 1);
  const scaled = normal.map((v, k) => v / (scale[Math.floor(k / P)]! * scale[k % P]!));
  const inverse = spdInverse(scaled, P);
  if (!inverse) return out;
  const sigma2 = sse / (count - P);
  for (let a = 0; a < P; a++) out[a] = Math.sqrt((sigma2 * inverse[a * P + a]!) / (scale[a]! * scale[a]!));
  return out;
}

function curveMetricsList(law: Law<any>, params: ArrayLike<number>, curves: FitCurve[], options: FitOptions, lawId: LawId): CurveFitMetrics[] {
  const lawOptions = lawOptionsOf(lawId, options);
  return curves.map((curve) => ({ id: curve.id, name: curve.name, metrics: evaluateMetrics(law, params, curve, { fromStep: options.fromStep, lawOptions }) }));
}

interface PreparedRequest {
  lawId: LawId;
  law: Law<any>;
  curves: FitCurve[];
  options: FitOptions;
  prepared: PreparedCurve[];
  /** Usable points over all curves. */
  used: number;
  /** Notes on the preprocessing (for the report). */
  notes: string[];
}

/**
 * Validate and preprocess the request's curves. Throws FitInputError (a RangeError naming the field:
 * `options.<name>`, `curves[i]`) for options the fit would ignore and curves it cannot use.
 */
function prepareRequest(request: FitRequest): PreparedRequest {
  const notes: string[] = [];
  const { law: lawId, curves } = request;
  const options: FitOptions = request.options ?? {};
  const law = getLaw(lawId);
  const refused = inapplicableOption(lawId, options);
  if (refused) throw refused;
  for (const option of law.options) {
    const value = (options as Record<string, unknown>)[option.name];
    const why = value === undefined ? undefined : option.validate(value);
    if (why) throw new FitInputError(`options.${option.name} ${why}`, `options.${option.name}`);
  }
  if (curves.length === 0) throw new FitInputError('fitLaw needs at least one curve', 'curves');
  if (unitsOf(lawId, options) === 'relative') {
    const name = law.params.find((p) => (p.scalesWithLr || p.scalesWithLoss) && options.bounds?.[p.name] !== undefined)?.name;
    if (name) {
      throw new FitInputError(
        `options.bounds.${name}: ${name} depends on the units of the lrs or of the loss, and this fit works in relative units (lrs in units of the peak lr, losses in units of the lowest loss); set options.units to "absolute" to bound it in the values' own units`,
        `options.bounds.${name}`,
      );
    }
  }
  const maxPoints = methodOf(lawId, options) === 'reference' ? Infinity : (options.maxPoints ?? DEFAULT_MAX_POINTS);
  const prepared = curves.map((c) => prepareCurve(c, options.fromStep ?? 0, maxPoints));
  if (options.fromStep) notes.push(`points before step ${options.fromStep} ignored`);
  for (const [i, c] of prepared.entries()) {
    if (c.skipped > 0) notes.push(`${c.curve.name}: ${c.skipped} points skipped (loss not positive/finite, or S(s) = 0)`);
    if (c.binned) notes.push(`${c.curve.name}: ${c.given - c.skipped} points bin-averaged (mean loss per bin) to ${c.steps.length} (maxPoints ${maxPoints})`);
    if (c.steps.length === 0) {
      const afterFromStep = options.fromStep && c.given > c.skipped;
      throw afterFromStep
        ? new FitInputError(`curve ${c.curve.name} has no points at or after fromStep ${options.fromStep}`, 'options.fromStep')
        : new FitInputError(`curve ${c.curve.name} has no usable points`, `curves[${i}]`);
    }
  }
  const used = prepared.reduce((n, c) => n + c.steps.length, 0);
  if (used < law.params.length) throw new FitInputError(`${used} usable points cannot determine ${law.params.length} params`, 'curves');
  if (options.leaveOneOut === true && curves.length < 2) notes.push('leave-one-curve-out needs 2 or more curves: not run');
  return { lawId, law, curves, options, prepared, used, notes };
}

/** Whether a request gets leave-one-curve-out metrics (2+ curves, not switched off). */
export function wantsLeaveOneOut(request: FitRequest): boolean {
  return request.curves.length >= 2 && request.options?.leaveOneOut !== false;
}

/**
 * The fit of `request` without its leave-one-curve-out part (see `fitLaw`). The folds are separate
 * so a caller can run them in parallel (`leaveOneOutFold`, then `attachLeaveOneOut`).
 */
export function fitMain(request: FitRequest, onProgress?: FitProgress): FitReport {
  const started = performance.now();
  return mainFit(prepareRequest(request), started, onProgress);
}

/**
 * The note on method 'converged': the law's global start (its sampled params times the alpha grid, or
 * the alpha grid alone) and local refinement, with the law's options.
 */
function convergedNote(law: Law<any>, options: FitOptions): string {
  const { linear, sampled } = law.start;
  const solved = linear.map((j) => law.params[j]!.name).join('/');
  const names = sampled.map((p) => (p.log ? `log ${law.params[p.index]!.name}` : law.params[p.index]!.name)).join(', ');
  const start =
    sampled.length === 0
      ? `alpha grid, ${solved} by weighted least squares`
      : `${options.starts ?? FIT_DEFAULTS.starts} Latin hypercube samples of (${names}) x ${ALPHA_GRID.length} alphas, ${solved} by weighted least squares (seed ${options.seed ?? FIT_DEFAULTS.seed})`;
  const refine = law.fit.refine === 'ml-lm' ? 'ml-levenberg-marquardt (analytic Jacobian) in Huber IRLS rounds' : 'Levenberg-Marquardt (analytic Jacobian, Huber IRLS)';
  const lawOptions = Object.entries(lawOptionsOf(law.id, options) ?? {}).map(([name, value]) => `; ${name} ${value}`).join('');
  return `global start: ${start}; best ${FIT_DEFAULTS.keep} refined by ${refine}${lawOptions}`;
}

function mainFit(request: PreparedRequest, started: number, onProgress?: FitProgress): FitReport {
  const { lawId, law, curves, options, prepared, used } = request;
  const notes = [...request.notes];
  const given = prepared.reduce((n, c) => n + c.given, 0);
  const method = methodOf(lawId, options);
  const weighting = curveWeightingOf(lawId, options) === 'equal' && curves.length > 1 ? `averaged per curve, then summed over ${curves.length} curves` : `summed over ${used} points of ${curves.length} curve(s)`;
  notes.push(`objective: Huber (delta ${options.huberDelta ?? HUBER_DELTA}) of log(loss) - log(pred), ${weighting}`);
  notes.push(
    method === 'reference'
      ? `method reference: the published reference procedure (simplified-model start from a 135-point grid, then AdamW stopped after 20 iterations without a new minimum; constants fixed, every raw point)`
      : method === 'map'
        ? `method map: maximum a posteriori params under a weak prior on the loss-drop shape (C, beta, gamma), Levenberg-Marquardt to convergence from the reference's simplified-model start`
        : method === 'adam'
          ? `method adam: projected Adam for a fixed budget from the reference initial guess (early stopping: not run to the optimum by design; converged means the budget ran with finite values)`
          : convergedNote(law, options),
  );

  const core = fitInUnits(lawId, law, prepared, options, onProgress);
  notes.push(...core.notes);
  if (!core.converged) notes.push('the fit did not converge: the params are the best point found');
  const stderr = standardErrors(core.model, core.params);
  if (method === 'map') {
    notes.push("standard errors: from the data's Jacobian at the returned params, the prior's curvature left out (so C, beta and gamma read wider than their posterior)");
  }
  if (method === 'adam' || method === 'reference') {
    notes.push('standard errors: from the Jacobian at the returned params; an early-stopped fit is not at the optimum of the objective, so they describe the local curvature there, not a confidence region of a converged fit');
  }
  const { min, max } = boundsOf(law, options);
  const params: ParamEstimate[] = law.params.map((spec, j) => ({ name: spec.name, value: core.params[j]!, stderr: stderr[j]!, min: min[j]!, max: max[j]! }));
  const perCurve = curveMetricsList(law, core.params, curves, options, lawId);
  return {
    law: lawId,
    params,
    objective: core.objective,
    iterations: core.iterations,
    wallMs: performance.now() - started,
    converged: core.converged,
    points: { used, given },
    curves: perCurve,
    mean: meanMetrics(perCurve.map((c) => c.metrics)),
    notes,
  };
}

/** Fold `j` of leave-one-curve-out: the same procedure from scratch on the other curves, metrics on curve j. */
export function leaveOneOutFold(request: FitRequest, j: number, onProgress?: FitProgress): CurveFitMetrics {
  return foldFit(prepareRequest(request), j, onProgress);
}

function foldFit({ lawId, law, curves, options, prepared }: PreparedRequest, j: number, onProgress?: FitProgress): CurveFitMetrics {
  if (!Number.isInteger(j) || j < 0 || j >= curves.length) throw new RangeError(`no fold ${j} among ${curves.length} curves`);
  const fit = fitInUnits(lawId, law, prepared.filter((_, k) => k !== j), options, onProgress);
  return curveMetricsList(law, fit.params, [curves[j]!], options, lawId)[0]!;
}

/** Add the folds (in curve order) to the report of `fitMain`. */
export function attachLeaveOneOut(report: FitReport, folds: CurveFitMetrics[]): FitReport {
  report.leaveOneOut = { curves: folds, mean: meanMetrics(folds.map((c) => c.metrics)) };
  report.notes.push('leave-one-curve-out: each curve predicted by a fit on the others (the same procedure from scratch, so the left-out curve never informs its own prediction)');
  return report;
}

/** Fit `law` to `curves` (shared params), with leave-one-curve-out folds one after another. See the file comment. */
export function fitLaw(request: FitRequest): FitReport {
  const started = performance.now();
  // The curves are prepared once for the main fit and every fold.
  const prepared = prepareRequest(request);
  const report = mainFit(prepared, started);
  if (wantsLeaveOneOut(request)) attachLeaveOneOut(report, request.curves.map((_, j) => foldFit(prepared, j)));
  report.wallMs = performance.now() - started;
  return report;
}
