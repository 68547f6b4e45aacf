/**
 * The optimize request: defaults applied and every field checked (OptimizeRequestError names the
 * offending field), then resolved into what the search works on (the constraints in peak units).
 */
import { MAX_TOTAL_STEPS } from '../schedule/spec.js';
import { MPL_PARAMS } from '../laws/mpl/law.js';
import { outOfDomain } from '../laws/law.js';
import { prefixLrs } from './objective.js';
import { SPACES, type SpaceName } from './spaces/strategy.js';
import type { Problem } from './spaces/common.js';

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
  /** The largest peak lr: an lr above 1 is not a learning rate anyone trains with. */
  maxPeakLr: 1,
  /** Every mpl param's magnitude stays below this (the fit bounds are far inside it; beyond it the predictions overflow). */
  maxParam: 1e6,
} as const;

/** A request with every default applied. */
export interface NormalizedRequest extends Required<Omit<OptimizeRequest, 'finalLr'>> {
  finalLr?: number;
}

/** A checked request and its constraints in peak units: what every space searches. */
export interface SearchRequest extends NormalizedRequest {
  problem: Problem;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function fail(message: string, field: string): never {
  throw new OptimizeRequestError(message, field);
}

/** The law's params and the run's length, warmup and lr bounds. */
function checkRun(req: OptimizeRequest): void {
  if (!Array.isArray(req.params) || req.params.length !== 7) {
    fail('params must be 7 finite numbers [L0, A, alpha, B, C, beta, gamma] of the multi-power law', 'params');
  }
  // Each param finite, of a sane magnitude and inside the law's domain, before any work.
  req.params.forEach((v, i) => {
    const name = MPL_PARAMS[i]!.name;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`params[${i}] (${name}) must be a finite number`, `params[${i}]`);
    if (Math.abs(v) >= OPTIMIZE_LIMITS.maxParam) fail(`params[${i}] (${name}) = ${v} is out of range: its magnitude must be below ${OPTIMIZE_LIMITS.maxParam}`, `params[${i}]`);
    const outside = outOfDomain([MPL_PARAMS[i]!], [v]);
    if (outside.length > 0) fail(`params[${i}] = ${v} is outside the multi-power law's domain: needs ${outside.join(', ')}`, `params[${i}]`);
  });
  if (!isInt(req.totalSteps) || req.totalSteps < 2) fail('totalSteps must be an integer >= 2', 'totalSteps');
  if (req.totalSteps > MAX_TOTAL_STEPS) fail(`totalSteps=${req.totalSteps} is over the limit of ${MAX_TOTAL_STEPS}`, 'totalSteps');
  if (!(Number.isFinite(req.peakLr) && req.peakLr > 0)) fail('peakLr must be > 0', 'peakLr');
  if (req.peakLr > OPTIMIZE_LIMITS.maxPeakLr) {
    fail(`peakLr=${req.peakLr} is over ${OPTIMIZE_LIMITS.maxPeakLr}: an lr above 1 is not a learning rate anyone trains with`, 'peakLr');
  }
  if (!isInt(req.warmupSteps) || req.warmupSteps < 0) fail('warmupSteps must be a non-negative integer', 'warmupSteps');
  if (req.warmupSteps >= req.totalSteps - 1) fail(`warmupSteps=${req.warmupSteps} must leave at least 2 steps of the ${req.totalSteps} after warmup`, 'warmupSteps');
}

/** Defaults applied and every field checked (throws OptimizeRequestError). */
export function normalizeRequest(req: OptimizeRequest): NormalizedRequest {
  checkRun(req);
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

/** The normalized request with its constraints in peak units (throws OptimizeRequestError). */
export function resolveRequest(request: OptimizeRequest): SearchRequest {
  const req = normalizeRequest(request);
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
  return { ...req, problem };
}
