/**
 * The per-step schedule of a curve: from its spec when given (logged lr values must agree),
 * otherwise rebuilt from the logged lr values.
 */
import { badRequest } from '../errors.js';
import { expandSchedule, lerp, warmupLr } from '../schedule/expand.js';
import { MAX_TOTAL_STEPS, parseSchedule, ScheduleError } from '../schedule/spec.js';
import { checkInlineExpansion } from '../schedule/cost.js';
import type { PointColumns } from './points.js';

/** Relative tolerance between a logged lr and the spec's lr at that step. */
export const LR_AGREEMENT = 1e-6;

/**
 * Check the spec against the points (every point inside the run; logged lrs agree to 1e-6
 * relative) and return its per-step learning rates. Throws 400 listing the first mismatches.
 */
export function scheduleFromSpec(spec: string, points: PointColumns): Float64Array {
  let lrs: Float64Array;
  try {
    const parsed = parseSchedule(spec);
    checkInlineExpansion(parsed);
    lrs = expandSchedule(parsed);
  } catch (error) {
    if (error instanceof ScheduleError) {
      throw badRequest(`invalid schedule: ${error.message}`, error.key === 'schedule' ? 'schedule' : `schedule.${error.key}`);
    }
    throw error;
  }
  const { steps } = points;
  const last = steps[steps.length - 1]!;
  if (last >= lrs.length) {
    throw badRequest(`point at step ${last} lies beyond the schedule, which has ${lrs.length} steps (0..${lrs.length - 1})`, 'schedule');
  }
  if (points.lrs) {
    const mismatches: { step: number; logged: number; schedule: number }[] = [];
    for (let i = 0; i < steps.length && mismatches.length < 5; i++) {
      const logged = points.lrs[i]!;
      if (Number.isNaN(logged)) continue;
      const expected = lrs[steps[i]!]!;
      if (Math.abs(logged - expected) > LR_AGREEMENT * Math.max(Math.abs(expected), Math.abs(logged))) {
        mismatches.push({ step: steps[i]!, logged, schedule: expected });
      }
    }
    if (mismatches.length > 0) {
      const list = mismatches.map((m) => `step ${m.step}: logged ${m.logged}, schedule ${m.schedule}`).join('; ');
      throw badRequest(`logged lr values disagree with the schedule (more than ${LR_AGREEMENT} relative): ${list}`, 'schedule', {
        mismatches,
      });
    }
  }
  return lrs;
}

/**
 * Rebuild the per-step schedule (steps 0..lastStep) from logged lr values: exact where every
 * step is logged, linear interpolation between logged steps, and before the first logged step a
 * linear warmup from 0 over `warmupSteps` (reaching the first logged lr at step warmupSteps-1),
 * holding that lr until the first logged step. Without warmupSteps the first lr holds from step 0.
 * Throws 400 for a point at or beyond MAX_TOTAL_STEPS, or a warmup that ends after the first logged lr.
 */
export function scheduleFromLoggedLrs(points: PointColumns, warmupSteps = 0): Float64Array {
  const { steps } = points;
  const known: number[] = [];
  if (points.lrs) for (let i = 0; i < steps.length; i++) if (!Number.isNaN(points.lrs[i]!)) known.push(i);
  if (known.length === 0) {
    throw badRequest('the curve has neither a schedule spec nor lr values: give `schedule` or an lr per point', 'schedule');
  }
  const lastStep = steps[steps.length - 1]!;
  if (lastStep >= MAX_TOTAL_STEPS) {
    const beyond = steps.findIndex((step) => step >= MAX_TOTAL_STEPS);
    throw badRequest(
      `step ${steps[beyond]} is beyond the limit of ${MAX_TOTAL_STEPS} schedule steps (0..${MAX_TOTAL_STEPS - 1}) for a schedule rebuilt from logged lr values`,
      `points[${beyond}].step`,
    );
  }
  const stepOf = (k: number) => steps[known[k]!]!;
  const lrOf = (k: number) => points.lrs![known[k]!]!;
  const firstStep = stepOf(0);
  const firstLr = lrOf(0);
  if (warmupSteps - 1 > firstStep) {
    throw badRequest(
      `warmupSteps=${warmupSteps} ends after the first logged lr (${firstLr} at step ${firstStep}): the warmup would reach it only at step ${warmupSteps - 1}, ` +
        `so the logged lr contradicts it; warmupSteps must be at most ${firstStep + 1}`,
      'warmupSteps',
    );
  }
  const lrs = new Float64Array(lastStep + 1);
  for (let s = 0; s < firstStep; s++) {
    lrs[s] = s < warmupSteps ? warmupLr(firstLr, warmupSteps, s) : firstLr;
  }
  for (let k = 0; k < known.length; k++) {
    const s0 = stepOf(k);
    const v0 = lrOf(k);
    lrs[s0] = v0;
    if (k + 1 < known.length) {
      const s1 = stepOf(k + 1);
      const v1 = lrOf(k + 1);
      for (let s = s0 + 1; s < s1; s++) lrs[s] = lerp(v0, v1, s - s0, s1 - s0);
    } else {
      for (let s = s0 + 1; s <= lastStep; s++) lrs[s] = v0; // last logged lr holds to the end
    }
  }
  return lrs;
}

/**
 * At upload: the curve's schedule (from spec or logged lrs) must have some lr > 0, as a curve
 * trained at lr 0 throughout cannot be fitted or predicted. Throws 400 naming `schedule`.
 */
export function checkScheduleNotAllZero(lrs: Float64Array, fromSpec: boolean): void {
  for (let s = 0; s < lrs.length; s++) if (lrs[s]! > 0) return;
  throw badRequest(
    fromSpec
      ? 'the schedule has lr 0 at every step: a curve needs some lr > 0'
      : 'every logged lr is 0: the schedule rebuilt from them has lr 0 at every step, and a curve needs some lr > 0',
    'schedule',
  );
}

/** The per-step schedule of a curve, however it was given. */
export function curveSchedule(points: PointColumns, spec?: string | null, warmupSteps?: number | null): Float64Array {
  return spec ? scheduleFromSpec(spec, points) : scheduleFromLoggedLrs(points, warmupSteps ?? 0);
}

/** A stored curve with its per-step schedule, as fitting and prediction need it. */
export function withLrSchedule<C extends { points: PointColumns; schedule: string | null; warmupSteps: number | null }>(curve: C): C & { lrSchedule: Float64Array } {
  return { ...curve, lrSchedule: curveSchedule(curve.points, curve.schedule, curve.warmupSteps) };
}
