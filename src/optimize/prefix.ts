/**
 * A fixed prefix of a run: the learning rates it has already used, which a schedule search
 * (POST /optimize-schedule) or a cooldown plan (POST /plan-cooldown) keeps exactly and plans the
 * rest after. Given as a schedule spec and how many of its steps have run (`prefix`,
 * `prefixSteps`); the routes turn a stored curve into one (its per-step schedule up to its last
 * logged step, as its own spec or as the exact piecewise spec of `exactPiecewiseSpec`).
 *
 * Why lrs may be 0 but the last one may not be: a warmup from 0 starts at lr 0, while a run whose
 * current lr is 0 has nothing left to continue or cool down from.
 */
import { parseSchedule, ScheduleError } from '../schedule/spec.js';
import { expandScheduleCached } from '../schedule/cache.js';
import { interpolateKnots } from '../schedule/expand.js';
import { withLrSchedule } from '../curves/schedule.js';
import type { PointColumns } from '../curves/points.js';
import { fail, isInt } from './request-error.js';

export interface PrefixSource {
  /** A schedule spec whose first `prefixSteps` steps have run. */
  prefix?: string;
  /** Default: the spec's whole length. */
  prefixSteps?: number;
}

/** The fixed lrs of `source` (a read-only view), or undefined without a prefix. Throws OptimizeRequestError naming prefix or prefixSteps. */
export function expandPrefix(source: PrefixSource): Float64Array | undefined {
  if (source.prefix === undefined) {
    if (source.prefixSteps !== undefined) fail('prefixSteps goes with prefix (a schedule spec whose first prefixSteps steps have run)', 'prefixSteps');
    return undefined;
  }
  if (typeof source.prefix !== 'string') fail('prefix must be a schedule spec', 'prefix');
  let lrs: Float64Array;
  try {
    lrs = expandScheduleCached(parseSchedule(source.prefix));
  } catch (error) {
    if (error instanceof ScheduleError) fail(`invalid prefix: ${error.message}`, error.key === 'schedule' ? 'prefix' : `prefix.${error.key}`);
    throw error;
  }
  const steps = source.prefixSteps ?? lrs.length;
  if (!isInt(steps) || steps < 1 || steps > lrs.length) fail(`prefixSteps must be an integer in 1..${lrs.length} (the length of the prefix spec)`, 'prefixSteps');
  return lrs.subarray(0, steps);
}

export interface PrefixBounds {
  totalSteps: number;
  /** The largest lr allowed; undefined: no bound (the prefix then sets the peak). */
  peakLr?: number;
  /** Require the last lr > 0 (a run that continues or cools down from its current lr). */
  lastPositive: boolean;
  /** Field named for a prefix too long for the budget. */
  lengthField: string;
}

/**
 * Check prefix lrs: at least 2 steps of `totalSteps` left to plan, every lr finite in [0, peakLr],
 * the last one > 0 when asked. Throws OptimizeRequestError naming `prefix` (or `lengthField`).
 */
export function checkPrefix(lrs: Float64Array, bounds: PrefixBounds): void {
  const P = lrs.length;
  if (P > bounds.totalSteps - 2) {
    fail(`the prefix has ${P} steps, which leaves fewer than 2 of totalSteps=${bounds.totalSteps} to plan: the prefix must be at most ${bounds.totalSteps - 2} steps`, bounds.lengthField);
  }
  const peak = bounds.peakLr ?? Infinity;
  for (let s = 0; s < P; s++) {
    const lr = lrs[s]!;
    if (!(lr >= 0 && lr <= peak)) {
      const why = Number.isFinite(lr) && lr >= 0 ? `above peakLr=${peak}` : 'not a finite lr >= 0';
      fail(`the prefix's lr at step ${s} (${lr}) is ${why}: every fixed lr must lie in [0, peakLr]`, 'prefix');
    }
  }
  if (bounds.lastPositive && !(lrs[P - 1]! > 0)) {
    fail(`the prefix ends at lr 0 (step ${P - 1}): the rest of the run continues from the current lr, so it must be > 0`, 'prefix');
  }
}

/** The largest lr of `lrs`. */
export function maxLr(lrs: ArrayLike<number>): number {
  let max = 0;
  for (let s = 0; s < lrs.length; s++) if (lrs[s]! > max) max = lrs[s]!;
  return max;
}

/** Candidate knots: the ends and every step where the slope changes by more than `eps`. */
function slopeKnots(lrs: Float64Array, eps: number): number[] {
  const knots = [0];
  for (let s = 1; s < lrs.length - 1; s++) if (Math.abs(lrs[s + 1]! - 2 * lrs[s]! + lrs[s - 1]!) > eps) knots.push(s);
  if (lrs.length > 1) knots.push(lrs.length - 1);
  return knots;
}

/** Steps where the piecewise interpolation of `knots` differs from `lrs` (bit for bit). */
function mismatches(lrs: Float64Array, knots: number[]): number[] {
  const out = interpolateKnots(knots, knots.map((s) => lrs[s]!), lrs.length);
  const bad: number[] = [];
  for (let s = 0; s < lrs.length; s++) if (out[s] !== lrs[s]) bad.push(s);
  return bad;
}

/**
 * Knot steps whose piecewise-linear interpolation (the piecewise family's) gives `lrs` bit for bit:
 * the slope changes, then every step that still differs added as a knot until none does (a few
 * rounds; rebuilt-from-log schedules interpolate the same way, so their logged steps suffice).
 */
export function exactKnots(lrs: Float64Array): number[] {
  let knots = slopeKnots(lrs, 1e-12 * maxLr(lrs));
  for (let round = 0; round < 8; round++) {
    const bad = mismatches(lrs, knots);
    if (bad.length === 0) return knots;
    knots = [...new Set([...knots, ...bad])].sort((a, b) => a - b);
  }
  return Array.from({ length: lrs.length }, (_, s) => s);
}

/** A piecewise spec that expands to `lrs` exactly (knot values written in their shortest exact decimal). */
export function exactPiecewiseSpec(lrs: Float64Array): string {
  return `piecewise:${exactKnots(lrs)
    .map((s) => `${s}=${lrs[s]! + 0}`)
    .join(';')}`;
}

/** A stored curve as a prefix needs it: its points, spec and warmup (src/store/types.ts Curve). */
export interface PrefixCurve {
  points: PointColumns;
  schedule: string | null;
  warmupSteps: number | null;
}

/**
 * The prefix of a stored curve: its schedule up to its last logged step. Its own spec when it has
 * one; else the schedule rebuilt from its logged lrs (src/curves/schedule.ts), as an exact piecewise
 * spec (a few knots per logged lr change), which a search job can store instead of every step.
 */
export function curvePrefix(curve: PrefixCurve): Required<PrefixSource> {
  const steps = curve.points.steps;
  const lastStep = steps[steps.length - 1]!;
  if (curve.schedule) return { prefix: curve.schedule, prefixSteps: lastStep + 1 };
  const lrs = withLrSchedule(curve).lrSchedule;
  return { prefix: exactPiecewiseSpec(lrs), prefixSteps: lrs.length };
}
