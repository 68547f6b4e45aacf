/**
 * The cooldown planner (POST /plan-cooldown): for a run in a constant-lr phase, the predicted
 * final loss of every cooldown on a grid (cooldown-grid.ts: start, length, shape, final lr), the
 * best of them, and its predicted gain over the two reference plans ("cool down now" and "continue
 * to the end of the budget with the default 20% cooldown").
 *
 * Every candidate keeps the run so far (the prefix) exactly and is evaluated by the multi-power law
 * over the whole run (cooldown-eval.ts, exact and about one term per prefix lr change per candidate).
 * The work is sized before any is done (`sizePlan`): over PLAN_LIMITS.maxWork it is a 400 naming
 * `grid`; the route runs plans over PLAN_LIMITS.inlineWork on a worker thread.
 */
import { MAX_TOTAL_STEPS, parseSchedule } from '../schedule/spec.js';
import { expandSchedule } from '../schedule/expand.js';
import { fail, isInt } from './request-error.js';
import { checkMplParams } from './params.js';
import { checkPrefix, expandPrefix, maxLr } from './prefix.js';
import { cooldownCandidates, candidateKey, referencePlans, type CooldownCandidate, type CooldownGridInput } from './cooldown-grid.js';
import { candidateLrs, evaluateCooldowns, finalLrOf, planWork, prefixTerms, type PrefixTerms } from './cooldown-eval.js';

export interface CooldownPlanRequest {
  /** Multi-power-law params [L0, A, alpha, B, C, beta, gamma]. */
  params: number[];
  /** The budget: the most steps the run may have. */
  totalSteps: number;
  /** The run so far: a schedule spec whose first `prefixSteps` steps have run (the route makes one from a curve). */
  prefix: string;
  prefixSteps?: number;
  grid?: CooldownGridInput;
}

export const PLAN_LIMITS = {
  /**
   * Law terms of a plan (planWork): 0.1-0.3 us each on one core (a tail step also expands its lr),
   * so at most about 3-9 s. The default grid of a 1,000,000-step budget costs about 2.5e7.
   */
  maxWork: 30_000_000,
  /** Plans up to this much work run inline (a few ms); the route sends bigger ones to a worker thread. */
  inlineWork: 20_000,
} as const;

/** A checked plan request, its prefix and candidates, and the work they cost. */
export interface SizedPlan {
  request: CooldownPlanRequest;
  prefix: Float64Array;
  terms: PrefixTerms;
  candidates: CooldownCandidate[];
  work: number;
  warnings: string[];
}

/** Check the request and size its work (throws OptimizeRequestError naming the field; `grid` for too much work). */
export function sizePlan(request: CooldownPlanRequest): SizedPlan {
  checkMplParams(request.params);
  const { totalSteps } = request;
  if (!isInt(totalSteps) || totalSteps < 3 || totalSteps > MAX_TOTAL_STEPS) fail(`totalSteps must be an integer in 3..${MAX_TOTAL_STEPS}`, 'totalSteps');
  const prefix = expandPrefix(request) ?? fail('a plan needs the run so far: a curve, or a prefix spec with prefixSteps', 'prefix');
  checkPrefix(prefix, { totalSteps, lastPositive: true, lengthField: request.prefixSteps !== undefined ? 'prefixSteps' : 'totalSteps' });
  const terms = prefixTerms(prefix);
  const candidates = cooldownCandidates(request.grid ?? {}, prefix.length, totalSteps);
  const work = planWork(candidates, terms.delta.length);
  if (work > PLAN_LIMITS.maxWork) {
    fail(
      `the plan would cost ${work.toExponential(2)} law terms (${candidates.length} candidates, ${terms.delta.length} lr changes in the prefix), over the limit of ${PLAN_LIMITS.maxWork.toExponential(0)}: give fewer starts, lengths, shapes or final fractions`,
      'grid',
    );
  }
  const warnings: string[] = [];
  if (terms.level < maxLr(prefix) * (1 - 1e-9)) {
    warnings.push(`the run is not at its largest lr (its last lr ${terms.level} is below ${maxLr(prefix)}): every plan holds the current lr until its cooldown`);
  }
  return { request, prefix, terms, candidates, work, warnings };
}

/** A candidate with its predicted final loss (at step end - 1). */
export interface PlanEntry extends CooldownCandidate {
  loss: number;
}

/** A plan spelled out: its specs, and its interval when the caller can give one. */
export interface PlanDetail extends PlanEntry {
  finalLr: number;
  /** The steps after the prefix as a wsd spec (its step 0 is step `now` of the run). */
  restSchedule: string;
  /** The whole run as one wsd spec, when one reproduces the prefix exactly (a prefix of warmup + constant). */
  schedule?: string;
  /** The prediction interval of the final loss (see PlanOptions.interval). */
  lower?: number;
  upper?: number;
}

export interface CooldownPlan {
  /** Steps already run (the prefix): a cooldown may start at any step from now on. */
  now: number;
  /** The lr the run is at (the prefix's last): what every cooldown decays from. */
  level: number;
  totalSteps: number;
  grid: PlanEntry[];
  best: PlanDetail;
  references: { coolDownNow: PlanDetail; continueToBudget: PlanDetail };
  /** Reference loss minus the best plan's (>= 0: the references are candidates too). */
  gain: { vsCoolDownNow: number; vsContinueToBudget: number };
  work: number;
  wallMs: number;
  warnings: string[];
}

export interface PlanOptions {
  /**
   * INTERVAL HOOK (issue 13, part 1): the prediction interval of the loss at `step` of the whole
   * run `lrs` (cooldown-interval.ts: src/predict/interval.ts on a fit's interval basis). It fills
   * `lower`/`upper` of the best plan and of the references: one law evaluation with its Jacobian
   * over the whole run each, too many for every grid entry.
   */
  interval?: (lrs: Float64Array, step: number) => { lower: number; upper: number };
}

/** The whole run as one wsd spec with the prefix spec's warmup, if its expansion reproduces the prefix exactly. */
function wholeRunSpec(plan: SizedPlan, c: CooldownCandidate, finalLr: number, lrs: Float64Array): string | undefined {
  const parsed = parseSchedule(plan.request.prefix);
  if (parsed.family === 'piecewise' || parsed.family === 'expr') return undefined;
  const spec = `wsd:peak=${plan.terms.level},warmup=${parsed.warmup},total=${c.end},decayStart=${c.start},final=${finalLr},shape=${c.shape}`;
  try {
    const expanded = expandSchedule(spec);
    for (let s = 0; s < expanded.length; s++) if (expanded[s] !== lrs[s]) return undefined;
    return spec;
  } catch {
    return undefined;
  }
}

/** A plan's specs and (with options.interval) its interval. */
function detail(plan: SizedPlan, entry: PlanEntry, options: PlanOptions): PlanDetail {
  const P = plan.prefix.length;
  const level = plan.terms.level;
  const finalLr = finalLrOf(level, entry.finalFraction);
  const restSchedule = `wsd:peak=${level},warmup=0,total=${entry.end - P},decayStart=${entry.start - P},final=${finalLr},shape=${entry.shape}`;
  const lrs = candidateLrs(plan.prefix, entry);
  const schedule = wholeRunSpec(plan, entry, finalLr, lrs);
  // Where the interval goes (PlanOptions.interval): lower and upper of the final loss.
  const interval = options.interval?.(lrs, entry.end - 1);
  return { ...entry, finalLr, restSchedule, ...(schedule ? { schedule } : {}), ...(interval ? { lower: interval.lower, upper: interval.upper } : {}) };
}

/** The best entry: lowest loss, then the shorter run (less compute), then grid order. */
function bestEntry(grid: PlanEntry[]): PlanEntry {
  let best = grid[0]!;
  for (const e of grid) if (e.loss < best.loss || (e.loss === best.loss && e.end < best.end)) best = e;
  return best;
}

/** The plan from its sized request and the candidates' losses (in their order). */
export function answerPlan(plan: SizedPlan, losses: ArrayLike<number>, options: PlanOptions = {}, t0 = performance.now()): CooldownPlan {
  const grid = plan.candidates.map((c, i) => ({ ...c, loss: losses[i]! }));
  const byKey = new Map(grid.map((e) => [candidateKey(e), e]));
  const refs = referencePlans(plan.prefix.length, plan.request.totalSteps);
  const best = detail(plan, bestEntry(grid), options);
  const coolDownNow = detail(plan, byKey.get(candidateKey(refs.coolDownNow))!, options);
  const continueToBudget = detail(plan, byKey.get(candidateKey(refs.continueToBudget))!, options);
  const warnings = [...plan.warnings];
  const nonPositive = grid.filter((e) => !(e.loss > 0)).length;
  if (nonPositive > 0) {
    warnings.push(
      `the law predicts a loss <= 0 (or not finite) for ${nonPositive} of ${grid.length} candidates: its params do not describe these cooldowns (a fit on constant-lr data alone cannot identify the loss drop of a decay; fit curves with a cooldown too)`,
    );
  }
  if (best.end < plan.request.totalSteps) {
    warnings.push(`the best plan ends at step ${best.end}, before the budget of ${plan.request.totalSteps}: the law predicts no gain from the remaining steps with the cooldowns of this grid`);
  }
  return {
    now: plan.prefix.length,
    level: plan.terms.level,
    totalSteps: plan.request.totalSteps,
    grid,
    best,
    references: { coolDownNow, continueToBudget },
    gain: { vsCoolDownNow: coolDownNow.loss - best.loss, vsContinueToBudget: continueToBudget.loss - best.loss },
    work: plan.work,
    wallMs: performance.now() - t0,
    warnings,
  };
}

/** Size, evaluate and answer a plan on this thread (the route sends big ones to a worker: src/workers/search-cooldown-pool.ts). */
export function planCooldown(request: CooldownPlanRequest, options: PlanOptions = {}): CooldownPlan {
  const t0 = performance.now();
  const plan = sizePlan(request);
  const losses = evaluateCooldowns(plan.terms, plan.candidates, request.params);
  return answerPlan(plan, losses, options, t0);
}
