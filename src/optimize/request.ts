/**
 * The optimize request: defaults applied and every field checked (OptimizeRequestError names the
 * offending field), then resolved into what the search works on (the constraints in peak units).
 *
 * A fixed prefix (`prefix` spec + `prefixSteps`, see prefix.ts) replaces the warmup as the fixed
 * leading lrs: the search plans only the steps after it, the law is evaluated over the whole run.
 * Then `peakLr` defaults to the prefix's largest lr and `warmupSteps` is not needed (the prefix
 * holds the warmup); with `monotone` the rest never rises above the prefix's last lr.
 */
import { MAX_TOTAL_STEPS } from '../schedule/spec.js';
import { prefixLrs } from './objective.js';
import { SPACES, type SpaceName } from './spaces/strategy.js';
import type { Problem } from './spaces/common.js';
import { fail, isInt } from './request-error.js';
import { checkMplParams, MAX_PARAM } from './params.js';
import { checkPrefix, expandPrefix, maxLr } from './prefix.js';

export { OptimizeRequestError } from './request-error.js';
export { checkMplParams } from './params.js';

export interface OptimizeRequest {
  /** Multi-power-law params [L0, A, alpha, B, C, beta, gamma]. */
  params: number[];
  totalSteps: number;
  peakLr: number;
  /** Linear warmup steps; not used with a prefix (the prefix holds the warmup). */
  warmupSteps: number;
  /** Fixed leading lrs: a schedule spec whose first `prefixSteps` steps have run (see prefix.ts). */
  prefix?: string;
  prefixSteps?: number;
  minLr?: number;
  /** Fixed lr of the last step; free when absent. */
  finalLr?: number;
  space?: SpaceName;
  pieces?: number;
  monotone?: boolean;
  restarts?: number;
  budgetMs?: number;
}

/**
 * A request as the routes may give it: with a fixed prefix, `peakLr` defaults to the prefix's
 * largest lr and `warmupSteps` may be left out (the prefix holds the warmup).
 */
export type OptimizeInput = Omit<OptimizeRequest, 'peakLr' | 'warmupSteps'> & Partial<Pick<OptimizeRequest, 'peakLr' | 'warmupSteps'>>;

export const OPTIMIZE_LIMITS = {
  maxPieces: 1000,
  maxRestarts: 1024,
  minBudgetMs: 50,
  maxBudgetMs: 600_000,
  /** The largest peak lr: an lr above 1 is not a learning rate anyone trains with. */
  maxPeakLr: 1,
  /** Every mpl param's magnitude stays below this (the fit bounds are far inside it; beyond it the predictions overflow). */
  maxParam: MAX_PARAM,
} as const;

/** A request with every default applied. */
export interface NormalizedRequest extends Required<Omit<OptimizeRequest, 'finalLr' | 'prefix' | 'prefixSteps'>> {
  finalLr?: number;
  prefix?: string;
  prefixSteps?: number;
}

/** A checked request and its constraints in peak units: what every space searches. */
export interface SearchRequest extends NormalizedRequest {
  problem: Problem;
}

/** The peak lr: given (checked), or the prefix's largest lr. */
export function checkPeakLr(given: number | undefined, prefix: Float64Array | undefined): number {
  if (given === undefined && !prefix) fail('peakLr is required (without a prefix)', 'peakLr');
  const peakLr = given ?? maxLr(prefix!);
  if (!(typeof peakLr === 'number' && Number.isFinite(peakLr) && peakLr > 0)) fail(given === undefined ? 'peakLr is required: the prefix has no lr > 0' : 'peakLr must be > 0', 'peakLr');
  if (peakLr > OPTIMIZE_LIMITS.maxPeakLr) {
    fail(`peakLr=${peakLr} is over ${OPTIMIZE_LIMITS.maxPeakLr}: an lr above 1 is not a learning rate anyone trains with`, 'peakLr');
  }
  return peakLr;
}

/** The run's length, peak lr, warmup and fixed prefix (the user's, or undefined for the warmup). */
function checkRun(req: OptimizeInput): { peakLr: number; warmupSteps: number; prefix?: Float64Array } {
  checkMplParams(req.params);
  if (!isInt(req.totalSteps) || req.totalSteps < 2) fail('totalSteps must be an integer >= 2', 'totalSteps');
  if (req.totalSteps > MAX_TOTAL_STEPS) fail(`totalSteps=${req.totalSteps} is over the limit of ${MAX_TOTAL_STEPS}`, 'totalSteps');
  const prefix = expandPrefix(req);
  const peakLr = checkPeakLr(req.peakLr, prefix);
  const warmupSteps = req.warmupSteps ?? (prefix ? 0 : fail('warmupSteps is required (without a prefix)', 'warmupSteps'));
  if (!isInt(warmupSteps) || warmupSteps < 0) fail('warmupSteps must be a non-negative integer', 'warmupSteps');
  if (prefix) {
    if (warmupSteps > prefix.length) fail(`warmupSteps=${warmupSteps} ends after the prefix (${prefix.length} steps): the prefix holds the warmup, leave warmupSteps out`, 'warmupSteps');
    const lengthField = req.prefixSteps !== undefined ? 'prefixSteps' : 'totalSteps';
    checkPrefix(prefix, { totalSteps: req.totalSteps, peakLr, lastPositive: req.monotone ?? true, lengthField });
  } else if (warmupSteps >= req.totalSteps - 1) {
    fail(`warmupSteps=${warmupSteps} must leave at least 2 steps of the ${req.totalSteps} after warmup`, 'warmupSteps');
  }
  return { peakLr, warmupSteps, prefix };
}

/** minLr and finalLr within [0, peakLr], and (monotone) not above the lr the rest starts from. */
function checkLrBounds(req: OptimizeInput, peakLr: number, startLr: number, monotone: boolean): number {
  const minLr = req.minLr ?? 0;
  if (!(Number.isFinite(minLr) && minLr >= 0 && minLr <= peakLr)) fail('minLr must lie in [0, peakLr]', 'minLr');
  if (req.finalLr !== undefined && !(Number.isFinite(req.finalLr) && req.finalLr >= minLr && req.finalLr <= peakLr)) {
    fail('finalLr must lie in [minLr, peakLr]', 'finalLr');
  }
  if (monotone && minLr > startLr) fail(`minLr=${minLr} is above the prefix's last lr (${startLr}): a non-increasing rest cannot stay above it`, 'minLr');
  if (monotone && req.finalLr !== undefined && req.finalLr > startLr) {
    fail(`finalLr=${req.finalLr} is above the prefix's last lr (${startLr}): a non-increasing rest cannot end above it`, 'finalLr');
  }
  return minLr;
}

/** Defaults applied and every field checked (throws OptimizeRequestError). */
export function normalizeRequest(req: OptimizeInput): NormalizedRequest {
  return checkRequest(req).normalized;
}

/** The normalized request and its fixed prefix (the user's, when given). */
function checkRequest(req: OptimizeInput): { normalized: NormalizedRequest; prefix?: Float64Array } {
  const { peakLr, warmupSteps, prefix } = checkRun(req);
  const monotone = req.monotone ?? true;
  if (typeof monotone !== 'boolean') fail('monotone must be a boolean', 'monotone');
  const minLr = checkLrBounds(req, peakLr, prefix ? prefix[prefix.length - 1]! : peakLr, monotone);
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
  return { normalized: { ...req, params: [...req.params], peakLr, warmupSteps, minLr, space, pieces, restarts, budgetMs, monotone }, prefix };
}

/** The normalized request with its constraints in peak units (throws OptimizeRequestError). */
export function resolveRequest(request: OptimizeInput): SearchRequest {
  const checked = checkRequest(request);
  const req = checked.normalized;
  const peak = req.peakLr;
  const prefix = checked.prefix ?? prefixLrs(peak, req.warmupSteps);
  // The warmup ends at peak (up to an ulp): 1 then, as before prefixes.
  const yStart = checked.prefix ? prefix[prefix.length - 1]! / peak : 1;
  const problem: Problem = {
    totalSteps: req.totalSteps,
    peakLr: peak,
    warmupSteps: req.warmupSteps,
    prefix,
    fixedPrefix: checked.prefix !== undefined,
    postSteps: req.totalSteps - prefix.length,
    yStart,
    yMax: req.monotone ? yStart : 1,
    yMin: req.minLr / peak,
    yFinal: req.finalLr === undefined ? undefined : req.finalLr / peak,
    monotone: req.monotone,
  };
  return { ...req, problem };
}
