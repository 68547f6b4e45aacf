/**
 * Learning-rate schedule optimization under the multi-power law: minimize the predicted loss at
 * the last step over schedules with a fixed linear warmup, lrs in [minLr, peakLr], optionally a
 * fixed final lr and a non-increasing decay.
 *
 * Method: batched projected Adam (search.ts) on TF.js autodiff gradients of the law's final-step
 * loss (objective.ts). Coarse to fine: the restarts run on a grid of a few dozen blocks of equal
 * lr, where the law is exact for the resulting staircase; the best candidates are then refined on
 * a fine grid (every step for runs up to 65,536 post-warmup steps). The answer is turned into a
 * piecewise spec (export.ts), re-expanded, and its loss recomputed in float64 by `predictMpl`.
 *
 * Time: `budgetMs` covers the whole call. The float64 evaluations cost about 0.15 us per step each
 * (33 for the baselines, a few for the answer): milliseconds at 24,000 steps, seconds at millions.
 * The baselines come first, and the search stops early enough to leave room for the answer's; when
 * the baselines alone use up the budget, the search gets one iteration per stage and a warning.
 *
 * `monotone: false`: the search charges every lr rise its largest possible loss-drop value (see
 * objective.ts), since the law, fitted on monotone decays, rewards oscillations without bound; the
 * answer warns when it raises the lr, counting the rises.
 */
import { predictMpl } from '../laws/mpl.js';
import { evenSteps, expandSchedule, interpolateKnots } from '../schedule/expand.js';
import { MAX_TOTAL_STEPS } from '../schedule/spec.js';
import { initBackend, backendNotes, tf } from './backend.js';
import { FinalLossObjective, prefixLrs, riseCharge } from './objective.js';
import { adamSearch, AbortError, type SpaceBatch } from './search.js';
import { computeBaselines, BASELINE_EVALUATIONS, type Baselines } from './baselines.js';
import { toPiecewiseSpec } from './export.js';
import {
  SPACES,
  blockCenters,
  freeBatch,
  gridSizes,
  initialShapes,
  knotOffsets,
  piecewiseBatch,
  staircaseLrs,
  wsdBatch,
  EXP_FLOOR,
  WSD_SEARCH_SHAPES,
  type Problem,
  type SpaceName,
} from './spaces.js';
import type { WsdShape } from '../schedule/spec.js';

export { initBackend, currentBackend, backendNotes } from './backend.js';
export { AbortError } from './search.js';
export type { SpaceName } from './spaces.js';
export type { Baselines, Baseline } from './baselines.js';

export interface OptimizeRequest {
  /** Multi-power-law params [L0, A, alpha, B, C, beta, gamma]. */
  params: number[];
  totalSteps: number;
  peakLr: number;
  warmupSteps: number;
  minLr?: number;
  /** Fixed lr of the last step; free when absent. */
  finalLr?: number;
  space?: SpaceName;
  pieces?: number;
  monotone?: boolean;
  restarts?: number;
  budgetMs?: number;
}

export interface OptimizeProgress {
  progress: number;
  bestLoss: number;
  iteration: number;
}

export interface OptimizeOptions {
  onProgress?(p: OptimizeProgress): void;
  signal?: AbortSignal;
  /** Seed of the random restarts (default 1). */
  seed?: number;
}

export interface OptimizeResult {
  /** Piecewise spec; expandSchedule(schedule) equals `lrs`. */
  schedule: string;
  lrs: number[];
  predictedFinalLoss: number;
  curve: { steps: number[]; loss: number[] };
  baselines: Baselines;
  improvement: { vsCosine: number; vsBestBaseline: number };
  space: SpaceName;
  /**
   * For `space: 'wsd'`, the schedule in the wsd family that `schedule` copies (its knots are thinned
   * to within 1e-4 x peak lr of it, never at a loss cost above 1e-9).
   */
  familySchedule?: string;
  backend: string;
  iterations: number;
  wallMs: number;
  warnings: string[];
}

/** A request that cannot be optimized; `field` names the offending request field. */
export class OptimizeRequestError extends RangeError {
  readonly field: string;
  constructor(message: string, field: string) {
    super(message);
    this.name = 'OptimizeRequestError';
    this.field = field;
  }
}

export const OPTIMIZE_LIMITS = {
  maxPieces: 1000,
  maxRestarts: 1024,
  minBudgetMs: 50,
  maxBudgetMs: 600_000,
} as const;

interface Normalized extends Required<Omit<OptimizeRequest, 'finalLr'>> {
  finalLr?: number;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Defaults applied and every field checked (throws OptimizeRequestError). */
export function normalizeRequest(req: OptimizeRequest): Normalized {
  const fail = (message: string, field: string): never => {
    throw new OptimizeRequestError(message, field);
  };
  if (!Array.isArray(req.params) || req.params.length !== 7 || !req.params.every((v) => Number.isFinite(v))) {
    fail('params must be 7 finite numbers [L0, A, alpha, B, C, beta, gamma] of the multi-power law', 'params');
  }
  const [, A, alpha, B, C, beta, gamma] = req.params;
  if (A! < 0 || alpha! <= 0 || B! < 0 || C! <= 0 || beta! <= 0 || gamma! < 0) {
    fail('params: A, B, gamma must be >= 0 and alpha, C, beta > 0', 'params');
  }
  if (!isInt(req.totalSteps) || req.totalSteps < 2) fail('totalSteps must be an integer >= 2', 'totalSteps');
  if (req.totalSteps > MAX_TOTAL_STEPS) fail(`totalSteps=${req.totalSteps} is over the limit of ${MAX_TOTAL_STEPS}`, 'totalSteps');
  if (!(Number.isFinite(req.peakLr) && req.peakLr > 0)) fail('peakLr must be > 0', 'peakLr');
  if (!isInt(req.warmupSteps) || req.warmupSteps < 0) fail('warmupSteps must be a non-negative integer', 'warmupSteps');
  if (req.warmupSteps >= req.totalSteps - 1) fail(`warmupSteps=${req.warmupSteps} must leave at least 2 steps of the ${req.totalSteps} after warmup`, 'warmupSteps');
  const minLr = req.minLr ?? 0;
  if (!(Number.isFinite(minLr) && minLr >= 0 && minLr <= req.peakLr)) fail('minLr must lie in [0, peakLr]', 'minLr');
  if (req.finalLr !== undefined && !(Number.isFinite(req.finalLr) && req.finalLr >= minLr && req.finalLr <= req.peakLr)) {
    fail('finalLr must lie in [minLr, peakLr]', 'finalLr');
  }
  const space = req.space ?? 'free';
  if (!SPACES.includes(space)) fail(`space must be one of ${SPACES.join(', ')}`, 'space');
  const pieces = req.pieces ?? 16;
  if (!isInt(pieces) || pieces < 1 || pieces > OPTIMIZE_LIMITS.maxPieces) fail(`pieces must be an integer in 1..${OPTIMIZE_LIMITS.maxPieces}`, 'pieces');
  const restarts = req.restarts ?? 64;
  if (!isInt(restarts) || restarts < 1 || restarts > OPTIMIZE_LIMITS.maxRestarts) fail(`restarts must be an integer in 1..${OPTIMIZE_LIMITS.maxRestarts}`, 'restarts');
  const budgetMs = req.budgetMs ?? 10_000;
  if (!(Number.isFinite(budgetMs) && budgetMs >= OPTIMIZE_LIMITS.minBudgetMs && budgetMs <= OPTIMIZE_LIMITS.maxBudgetMs)) {
    fail(`budgetMs must lie in ${OPTIMIZE_LIMITS.minBudgetMs}..${OPTIMIZE_LIMITS.maxBudgetMs}`, 'budgetMs');
  }
  const monotone = req.monotone ?? true;
  if (typeof monotone !== 'boolean') fail('monotone must be a boolean', 'monotone');
  return { ...req, params: [...req.params], minLr, space, pieces, restarts, budgetMs, monotone };
}

/** Coarse grid (blocks) of the restarts, and the cap on the refinement grid. */
const COARSE_BLOCKS = [64, 128];
const FINE_BLOCKS_MAX = 65_536;
const PIECEWISE_BLOCKS = 1024;
const WSD_BLOCKS = 512;

/** Float64 evaluations of the answer after the search (export and thinning), room kept for them. */
const ANSWER_EVALUATIONS = 4;

interface Candidate {
  lrs: Float64Array;
  /** The search's score: the law's final loss, plus the rise charge when not monotone. */
  loss: number;
  familySchedule?: string;
}

/** Curve sample steps: about 500, from the first step with a positive lr sum (the law is infinite before it), and the last. */
export function curveSteps(lrs: Float64Array): number[] {
  let first = 0;
  while (first < lrs.length - 1 && !(lrs[first]! > 0)) first++;
  const steps = evenSteps(lrs.length, 500).map((s) => Math.max(s, first));
  return steps.filter((s, i) => i === 0 || s !== steps[i - 1]);
}

/**
 * A copy of `values` with the rises in [from, to) flattened: the running minimum there, raised to
 * `floor` (a pinned final lr, so that the rise to it at the end goes too).
 */
function flattenRises(values: Float64Array, from: number, to: number, floor = -Infinity): Float64Array {
  const out = Float64Array.from(values);
  for (let i = Math.max(1, from); i < to; i++) out[i] = Math.max(floor, Math.min(out[i]!, out[i - 1]!));
  return out;
}

/** Steps after the warmup (from `from`) where the lr rises. */
export function countRises(lrs: ArrayLike<number>, from: number): number {
  let rises = 0;
  for (let s = Math.max(1, from); s < lrs.length; s++) if (lrs[s]! > lrs[s - 1]!) rises++;
  return rises;
}

/** An optimization result with its per-step lrs as a Float64Array (which a worker thread can transfer). */
export type OptimizeOutcome = Omit<OptimizeResult, 'lrs'> & { lrs: Float64Array };

/** Search for the schedule with the lowest predicted final loss (on this thread; see pool.ts for worker threads). */
export async function optimizeSchedule(request: OptimizeRequest, options: OptimizeOptions = {}): Promise<OptimizeResult> {
  return toResult(await searchSchedule(request, options));
}

/** The outcome with its lrs as a plain array (an indexed copy: a few times faster than Array.from). */
export function toResult(outcome: OptimizeOutcome): OptimizeResult {
  const lrs = new Array<number>(outcome.lrs.length);
  for (let s = 0; s < lrs.length; s++) lrs[s] = outcome.lrs[s]!;
  return { ...outcome, lrs };
}

/** `optimizeSchedule` with the lrs left as a Float64Array. */
export async function searchSchedule(request: OptimizeRequest, options: OptimizeOptions = {}): Promise<OptimizeOutcome> {
  const t0 = performance.now();
  const req = normalizeRequest(request);
  const backend = await initBackend();
  const warnings: string[] = [];
  const notes = backendNotes();
  if (notes.length > 0 && backend !== 'node-gpu') warnings.push(`TF.js backend ${backend} (${notes.join('; ')})`);
  const { signal, onProgress } = options;
  const seed = options.seed ?? 1;
  const peak = req.peakLr;
  const prefix = prefixLrs(peak, req.warmupSteps);
  const problem: Problem = {
    totalSteps: req.totalSteps,
    peakLr: peak,
    warmupSteps: req.warmupSteps,
    prefix,
    postSteps: req.totalSteps - prefix.length,
    yMin: req.minLr / peak,
    yFinal: req.finalLr === undefined ? undefined : req.finalLr / peak,
    monotone: req.monotone,
  };
  const params = req.params;
  const evaluate = (lrs: Float64Array) => predictMpl(lrs, [lrs.length - 1], params)[0]!;
  const score = req.monotone ? evaluate : (lrs: Float64Array) => evaluate(lrs) + riseCharge(lrs, prefix.length, params[3]!);
  const baselineStart = performance.now();
  const baselines = computeBaselines({ ...req, minLr: req.minLr });
  const baselineMs = performance.now() - baselineStart;
  // The search ends early enough for the answer's float64 evaluations (each about one baseline's).
  const searchStart = performance.now();
  const deadline = t0 + req.budgetMs - (ANSWER_EVALUATIONS * baselineMs) / BASELINE_EVALUATIONS;
  /** The time `fraction` of the way from the search's start to its deadline. */
  const searchAt = (fraction: number) => searchStart + (deadline - searchStart) * fraction;
  if (deadline - searchStart < req.budgetMs / 2) {
    warnings.push(
      `the float64 baselines over ${req.totalSteps} steps took ${baselineMs.toFixed(0)} ms of the ${req.budgetMs} ms budget, leaving the search ${Math.max(0, deadline - searchStart).toFixed(0)} ms: raise budgetMs for runs this long`,
    );
  }
  const bestBaseline = Math.min(baselines.cosine.loss, baselines.linear.loss, baselines.wsd.loss, baselines.constant.loss);

  let iterations = 0;
  let bestSoFar = bestBaseline;
  const report = (progress: number, iteration: number, loss: number) => {
    if (Number.isFinite(loss) && loss < bestSoFar) bestSoFar = loss;
    onProgress?.({ progress: Math.min(1, Math.max(0, progress)), bestLoss: bestSoFar, iteration });
  };
  const stage = async (
    objective: FinalLossObjective,
    batch: SpaceBatch,
    maxIterations: number,
    stageDeadline: number,
    progressFrom: number,
    progressTo: number,
    patience?: number,
  ) => {
    const base = iterations;
    try {
      const result = await adamSearch(objective, batch, {
        maxIterations,
        patience,
        deadline: Math.min(deadline, stageDeadline),
        signal,
        onReport: (it, loss) => report(progressFrom + ((progressTo - progressFrom) * it) / maxIterations, base + it, loss),
      });
      iterations += result.iterations;
      return result;
    } finally {
      batch.dispose?.();
    }
  };

  const coarseObjective = new FinalLossObjective({ ...req, chargeRises: !req.monotone }, 1.2);
  const fineObjective = new FinalLossObjective({ ...req, chargeRises: !req.monotone }, 1);
  let best: Candidate;
  try {
    report(0, 0, Infinity);
    if (req.space === 'free') best = await optimizeFree();
    else if (req.space === 'piecewise') best = await optimizePiecewise();
    else best = await optimizeWsd();
  } finally {
    coarseObjective.dispose();
    fineObjective.dispose();
  }
  if (signal?.aborted) throw new AbortError();
  const stoppedByBudget = performance.now() > deadline;

  // Export: a spec with as few knots as keep the loss (within 1e-9), re-expanded exactly.
  const floorLr = req.monotone && req.finalLr !== undefined ? Math.max(req.minLr, req.finalLr) : req.minLr;
  let exported = toPiecewiseSpec(best.lrs, { peakLr: peak, prefixLength: prefix.length, floorLr, tolerance: 0, finalLr: req.finalLr });
  let exportedLoss = score(exported.lrs);
  for (const relTol of [1e-4, 1e-5, 1e-6]) {
    const thinned = toPiecewiseSpec(best.lrs, { peakLr: peak, prefixLength: prefix.length, floorLr, tolerance: relTol * peak, finalLr: req.finalLr });
    const loss = score(thinned.lrs);
    if (loss <= exportedLoss + 1e-9) {
      exported = thinned;
      exportedLoss = loss;
      break;
    }
  }
  const lrs = exported.lrs;
  const predictedFinalLoss = evaluate(lrs);
  const steps = curveSteps(lrs);
  const curve = { steps, loss: Array.from(predictMpl(lrs, steps, params)) };
  const rises = countRises(lrs, prefix.length);
  if (rises > 0) {
    warnings.push(
      `the schedule raises the lr at ${rises} step${rises === 1 ? '' : 's'} after warmup: the law was fitted on monotone decays, so its prediction for lr increases is an extrapolation`,
    );
  }
  if (predictedFinalLoss > bestBaseline) {
    warnings.push(`the optimized schedule (${predictedFinalLoss.toFixed(6)}) does not beat the best baseline (${bestBaseline.toFixed(6)}): raise budgetMs or restarts, or try space "free"`);
  }
  if (stoppedByBudget) warnings.push(`stopped at the time budget of ${req.budgetMs} ms before converging`);
  report(1, iterations, predictedFinalLoss);
  return {
    schedule: exported.spec,
    lrs,
    predictedFinalLoss,
    curve,
    baselines,
    improvement: { vsCosine: baselines.cosine.loss - predictedFinalLoss, vsBestBaseline: bestBaseline - predictedFinalLoss },
    space: req.space,
    ...(best.familySchedule ? { familySchedule: best.familySchedule } : {}),
    backend,
    iterations,
    wallMs: performance.now() - t0,
    warnings,
  };

  // -------------------------------------------------------------------------------------------

  /** Coarse restarts on block grids, then refinement of the best two on the fine grid. */
  async function optimizeFree(): Promise<Candidate> {
    const grids = COARSE_BLOCKS.map((n) => gridSizes(problem, n)).filter((g, i, all) => all.findIndex((h) => h.length === g.length) === i);
    const coarse: { sizes: Float64Array; y: Float64Array; loss: number }[] = [];
    const coarseEnd = searchAt(0.6);
    for (let gi = 0; gi < grids.length; gi++) {
      const sizes = grids[gi]!;
      const rows = Math.max(1, Math.round(req.restarts / grids.length));
      const init = initialShapes(problem, blockCenters(sizes), rows, seed + gi);
      const span = 0.6 / grids.length;
      const result = await stage(coarseObjective, freeBatch(problem, sizes, init, 0.01), 1500, coarseEnd, gi * span, (gi + 1) * span);
      for (let r = 0; r < rows; r++) {
        const y = result.theta.slice(r * sizes.length, (r + 1) * sizes.length);
        coarse.push({ sizes, y, loss: result.loss[r]! });
      }
    }
    coarse.sort((a, b) => a.loss - b.loss);
    const top = coarse.slice(0, 2).map((c) => {
      const lrs = staircaseLrs(problem, c.sizes, c.y);
      return { lrs, loss: score(lrs) };
    });
    top.sort((a, b) => a.loss - b.loss);
    let best: Candidate = top[0]!;
    // Refine at (up to) full resolution, starting from the staircases.
    const fine = gridSizes(problem, FINE_BLOCKS_MAX);
    const init = new Float64Array(top.length * fine.length);
    top.forEach((c, r) => {
      let s = prefix.length;
      for (let j = 0; j < fine.length; j++) {
        init[r * fine.length + j] = c.lrs[s]! / peak;
        s += fine[j]!;
      }
    });
    if (performance.now() < deadline - 50) {
      const result = await stage(fineObjective, freeBatch(problem, fine, init, 0.002), 400, deadline, 0.6, 0.98);
      for (let r = 0; r < top.length; r++) {
        const lrs = staircaseLrs(problem, fine, result.theta.subarray(r * fine.length, (r + 1) * fine.length));
        const loss = score(lrs);
        if (loss < best.loss) best = { lrs, loss };
      }
    }
    if (!req.monotone) best = withoutRises(best, best.lrs, prefix.length, (values) => values);
    return best;
  }

  /**
   * Without monotonicity the search leaves rises that do not pay (often tiny ones): `best`, or a copy
   * with the rises of its `values` (per-step lrs or knots, from `from`) flattened when that scores no
   * worse. With a pinned final lr, flattened once above it and once below it (keeping the last rise).
   */
  function withoutRises(best: Candidate, values: Float64Array, from: number, toLrs: (values: Float64Array) => Float64Array): Candidate {
    const n = values.length;
    const pinned = problem.yFinal !== undefined;
    const tries = pinned ? [flattenRises(values, from, n - 1), flattenRises(values, from, n - 1, values[n - 1])] : [flattenRises(values, from, n)];
    for (const flat of tries) {
      const lrs = toLrs(flat);
      const loss = score(lrs);
      if (loss <= best.loss) best = { lrs, loss };
    }
    return best;
  }

  async function optimizePiecewise(): Promise<Candidate> {
    const offsets = knotOffsets(problem, req.pieces);
    const sizes = gridSizes(problem, PIECEWISE_BLOCKS);
    // Knot positions as fractions of the span, for the initial shapes.
    const positions = Float64Array.from(offsets, (o) => o / Math.max(1, problem.postSteps - 1));
    const init = initialShapes(problem, positions, req.restarts, seed);
    const toLrs = (values: ArrayLike<number>) => {
      const lrs = new Float64Array(req.totalSteps);
      lrs.set(prefix);
      const post = interpolateKnots(offsets, Array.from(values as ArrayLike<number>, (v) => v * peak), problem.postSteps);
      lrs.set(post, prefix.length);
      return lrs;
    };
    const result = await stage(coarseObjective, piecewiseBatch(problem, offsets, sizes, init, 0.01), 1500, searchAt(0.7), 0, 0.7, 150);
    const k = offsets.length;
    const order = Array.from({ length: result.loss.length }, (_, r) => r).sort((a, b) => result.loss[a]! - result.loss[b]!);
    const top = order.slice(0, 2);
    let best: Candidate = { lrs: toLrs(result.theta.subarray(top[0]! * k, top[0]! * k + k)), loss: Infinity };
    best.loss = score(best.lrs);
    if (performance.now() < deadline - 50) {
      const fine = gridSizes(problem, FINE_BLOCKS_MAX);
      const fineInit = new Float64Array(top.length * k);
      top.forEach((r, i) => fineInit.set(result.theta.subarray(r * k, r * k + k), i * k));
      const refined = await stage(fineObjective, piecewiseBatch(problem, offsets, fine, fineInit, 0.002), 300, deadline, 0.7, 0.98);
      for (let r = 0; r < top.length; r++) {
        const lrs = toLrs(refined.theta.subarray(r * k, r * k + k));
        const loss = score(lrs);
        if (loss < best.loss) best = { lrs, loss };
      }
      for (const r of top.slice(1)) {
        const lrs = toLrs(result.theta.subarray(r * k, r * k + k));
        const loss = score(lrs);
        if (loss < best.loss) best = { lrs, loss };
      }
    }
    // Rises flattened on the knot values, which keeps the pieces.
    if (!req.monotone) best = withoutRises(best, Float64Array.from(offsets, (o) => best.lrs[prefix.length + o]! / peak), 0, toLrs);
    return best;
  }

  async function optimizeWsd(): Promise<Candidate> {
    const sizes = gridSizes(problem, WSD_BLOCKS);
    const shapes = WSD_SEARCH_SHAPES.filter((s) => s !== 'exp' || (problem.yFinal ?? 1) > 0);
    const starts = Math.max(1, Math.ceil(req.restarts / shapes.length));
    const rowShapes: WsdShape[] = [];
    const init: number[] = [];
    const random = (() => {
      let a = seed * 7919;
      return () => ((a = (a * 48271) % 2147483647) / 2147483647);
    })();
    for (let i = 0; i < starts; i++) {
      for (const shape of shapes) {
        rowShapes.push(shape);
        const start = starts === 1 ? 0.8 : 0.3 + (0.68 * i) / (starts - 1);
        const final = problem.yFinal ?? (shape === 'exp' ? Math.max(0.1, EXP_FLOOR) : Math.max(problem.yMin, 0.02 * random()));
        init.push(start, final);
      }
    }
    const batch = wsdBatch(problem, sizes, rowShapes, Float64Array.from(init), 0.01);
    const result = await stage(coarseObjective, batch, 800, deadline, 0, 0.95);
    // Exact integer decay starts, evaluated in float64; a small local search around each.
    const head = `peak=${peak},warmup=${req.warmupSteps},total=${req.totalSteps}`;
    let best: Candidate | undefined;
    const order = Array.from({ length: rowShapes.length }, (_, r) => r).sort((a, b) => result.loss[a]! - result.loss[b]!);
    const first = prefix.length;
    candidates: for (const r of order.slice(0, Math.min(order.length, 2 * shapes.length))) {
      const shape = rowShapes[r]!;
      const final = result.theta[2 * r + 1]! * peak;
      const center = first + Math.round(result.theta[2 * r]! * problem.postSteps);
      for (const delta of [0, -1, 1, -8, 8, -32, 32]) {
        // Each candidate costs a full-length float64 evaluation: past the deadline, keep the best so far.
        if (best && performance.now() > deadline) break candidates;
        const decayStart = Math.min(req.totalSteps - 1, Math.max(first, center + delta));
        const finalText = req.finalLr !== undefined ? String(req.finalLr) : String(Number(final.toPrecision(12)));
        const familySchedule = `wsd:${head},decayStart=${decayStart},final=${finalText},shape=${shape}`;
        let lrs: Float64Array;
        try {
          lrs = expandSchedule(familySchedule);
        } catch {
          continue;
        }
        const loss = evaluate(lrs);
        if (!best || loss < best.loss) best = { lrs, loss, familySchedule };
      }
    }
    if (!best) throw new Error('no valid wsd candidate');
    return best;
  }
}

export { tf };
