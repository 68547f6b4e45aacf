/**
 * The answer of a search: the best candidate turned into a piecewise spec (export.ts), re-expanded,
 * its loss recomputed in float64 by `predictMpl`, its loss curve, the improvement over the baselines
 * (absolute and relative), the prediction intervals when asked for (answer-interval.ts), and the warnings.
 *
 * `monotone: false`: the search charges every lr rise its largest possible loss-drop value (see
 * objective.ts), since the law, fitted on monotone decays, rewards oscillations without bound; the
 * answer warns when it raises the lr, counting the rises.
 */
import { predictMpl } from '../laws/mpl/index.js';
import { evenSteps } from '../schedule/expand.js';
import { toPiecewiseSpec } from './export.js';
import type { Baselines } from './baselines.js';
import { answerIntervals, type FinalInterval } from './answer-interval.js';
import type { SearchContext } from './context.js';
import type { Candidate, SpaceName } from './spaces/strategy.js';

export interface OptimizeResult {
  /** Piecewise spec; expandSchedule(schedule) equals `lrs`. */
  schedule: string;
  lrs: number[];
  predictedFinalLoss: number;
  /** With an interval: the bounds of predictedFinalLoss at its level (answer-interval.ts). */
  predictedFinalInterval?: FinalInterval;
  /** lower/upper with an interval, beside loss (null where the loss has none). */
  curve: { steps: number[]; loss: number[]; lower?: number[]; upper?: number[] };
  baselines: Baselines;
  /** Baseline loss minus optimized loss, and that over the baseline loss (positive is better). */
  improvement: { vsCosine: number; vsBestBaseline: number; vsCosineRelative: number; vsBestBaselineRelative: number };
  space: SpaceName;
  /**
   * For `space: 'wsd'`, the schedule in the wsd family that `schedule` copies (its knots are thinned
   * to within 1e-4 x peak lr of it, never at a loss cost above 1e-9).
   */
  familySchedule?: string;
  /** With a fixed prefix: its length (the steps of `lrs` kept exactly as given). */
  prefixSteps?: number;
  /** For `space: 'wsd'` after a fixed prefix: the wsd-family spec of the steps after it (its step 0 is step `prefixSteps`). */
  restSchedule?: string;
  backend: string;
  iterations: number;
  wallMs: number;
  warnings: string[];
}

/** An optimization result with its per-step lrs as a Float64Array (which a worker thread can transfer). */
export type OptimizeOutcome = Omit<OptimizeResult, 'lrs'> & { lrs: Float64Array };

/** Curve sample steps: about 500, from the first step with a positive lr sum (the law is infinite before it), and the last. */
export function curveSteps(lrs: Float64Array): number[] {
  let first = 0;
  while (first < lrs.length - 1 && !(lrs[first]! > 0)) first++;
  const steps = evenSteps(lrs.length, 500).map((s) => Math.max(s, first));
  return steps.filter((s, i) => i === 0 || s !== steps[i - 1]);
}

/** Steps after the warmup (from `from`) where the lr rises. */
export function countRises(lrs: ArrayLike<number>, from: number): number {
  let rises = 0;
  for (let s = Math.max(1, from); s < lrs.length; s++) if (lrs[s]! > lrs[s - 1]!) rises++;
  return rises;
}

/** Export: a spec with as few knots as keep the loss (within 1e-9), re-expanded exactly. */
function exportSpec(ctx: SearchContext, best: Candidate): { spec: string; lrs: Float64Array } {
  const { req, problem } = ctx;
  const floorLr = req.monotone && req.finalLr !== undefined ? Math.max(req.minLr, req.finalLr) : req.minLr;
  const options = { peakLr: req.peakLr, prefixLength: problem.prefix.length, floorLr, finalLr: req.finalLr, fixedPrefix: problem.fixedPrefix };
  let exported = toPiecewiseSpec(best.lrs, { ...options, tolerance: 0 });
  let exportedLoss = ctx.score(exported.lrs);
  for (const relTol of [1e-4, 1e-5, 1e-6]) {
    const thinned = toPiecewiseSpec(best.lrs, { ...options, tolerance: relTol * req.peakLr });
    const loss = ctx.score(thinned.lrs);
    if (loss <= exportedLoss + 1e-9) {
      exported = thinned;
      exportedLoss = loss;
      break;
    }
  }
  return exported;
}

/** The answer for the search's best candidate (call right after the search: the budget check is now). */
export function buildAnswer(ctx: SearchContext, best: Candidate): OptimizeOutcome {
  const { req, baselines, bestBaseline, warnings } = ctx;
  const stoppedByBudget = ctx.pastDeadline();
  const exported = exportSpec(ctx, best);
  const lrs = exported.lrs;
  const predictedFinalLoss = ctx.evaluate(lrs);
  const steps = curveSteps(lrs);
  let curve: OptimizeResult['curve'] = { steps, loss: Array.from(predictMpl(lrs, steps, req.params)) };
  const rises = countRises(lrs, ctx.problem.prefix.length);
  if (rises > 0) {
    warnings.push(
      `the schedule raises the lr at ${rises} step${rises === 1 ? '' : 's'} after warmup: the law was fitted on monotone decays, so its prediction for lr increases is an extrapolation`,
    );
  }
  if (predictedFinalLoss > bestBaseline) {
    warnings.push(`the optimized schedule (${predictedFinalLoss.toFixed(6)}) does not beat the best baseline (${bestBaseline.toFixed(6)}): raise budgetMs or restarts, or try space "free"`);
  }
  if (stoppedByBudget) warnings.push(`stopped at the time budget of ${req.budgetMs} ms before converging`);
  let answeredBaselines = baselines;
  let predictedFinalInterval: FinalInterval | undefined;
  if (ctx.interval) {
    const intervals = answerIntervals(ctx.interval, lrs, curve, baselines, ctx.problem.fixedPrefix ? ctx.problem.prefix : undefined);
    curve = { ...curve, ...intervals.curve };
    answeredBaselines = intervals.baselines;
    predictedFinalInterval = intervals.predictedFinalInterval;
    warnings.push(...intervals.warnings);
  }
  ctx.report(1, ctx.iterations, predictedFinalLoss);
  const cosine = baselines.cosine.loss;
  return {
    schedule: exported.spec,
    lrs,
    predictedFinalLoss,
    ...(predictedFinalInterval ? { predictedFinalInterval } : {}),
    curve,
    baselines: answeredBaselines,
    improvement: {
      vsCosine: cosine - predictedFinalLoss,
      vsBestBaseline: bestBaseline - predictedFinalLoss,
      vsCosineRelative: (cosine - predictedFinalLoss) / cosine,
      vsBestBaselineRelative: (bestBaseline - predictedFinalLoss) / bestBaseline,
    },
    space: req.space,
    ...(best.familySchedule ? { familySchedule: best.familySchedule } : {}),
    ...(ctx.problem.fixedPrefix ? { prefixSteps: ctx.problem.prefix.length } : {}),
    ...(best.restSchedule ? { restSchedule: best.restSchedule } : {}),
    backend: ctx.backend,
    iterations: ctx.iterations,
    wallMs: performance.now() - ctx.t0,
    warnings,
  };
}
