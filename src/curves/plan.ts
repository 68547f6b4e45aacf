/**
 * The planned schedule of a live run: what a forecast predicts the rest of the run under. A curve
 * uploaded with a `schedule` spec has its plan already (that spec, for the whole run); otherwise its
 * `plannedSchedule` spec gives the lrs after the last logged step, while the logged lrs (rebuilt as
 * for any curve) hold up to it: what was actually run wins over what was planned.
 */
import { badRequest, HttpProblem } from '../errors.js';
import { expandSchedule } from '../schedule/expand.js';
import { expandScheduleCached } from '../schedule/cache.js';
import { parseSchedule, ScheduleError } from '../schedule/spec.js';
import { MAX_SPEC_CHARS } from '../predict/limits.js';
import type { Curve } from '../store/types.js';
import { scheduleFromLoggedLrs } from './schedule.js';

/** A plannedSchedule spec checked completely (grammar and expansion): its text, or 400 naming `field` or `field.key`. */
export function checkPlannedSchedule(value: unknown, field = 'plannedSchedule'): string {
  if (typeof value !== 'string' || value.trim() === '') throw badRequest(`${field} must be a schedule spec string`, field);
  const text = value.trim();
  if (text.length > MAX_SPEC_CHARS) throw badRequest(`${field} is ${text.length} characters, over the limit of ${MAX_SPEC_CHARS}`, field);
  try {
    expandSchedule(parseSchedule(text)); // an expr's values are checked at every step, as for an upload's schedule
  } catch (error) {
    if (error instanceof ScheduleError) throw badRequest(`invalid ${field}: ${error.message}`, error.key === 'schedule' ? field : `${field}.${error.key}`);
    throw error;
  }
  return text;
}

/** The whole run's per-step lrs: logged so far, then the plan; and the spec the rest follows. */
export interface PlannedRun {
  lrs: Float64Array;
  /** The spec of the plan (the curve's schedule, or its plannedSchedule). */
  plan: string;
}

/** The run's planned lrs; 409 when the curve has no plan, or its plan ends at or before the last logged step. */
export function plannedRun(curve: Curve): PlannedRun {
  if (curve.schedule !== null) return checkRemaining(curve, { lrs: expandScheduleCached(parseSchedule(curve.schedule)), plan: curve.schedule });
  if (curve.plannedSchedule === null) {
    throw new HttpProblem(409, `curve ${curve.id} has no planned schedule: set one with PUT /curves/${curve.id}/plan {"schedule": SPEC} (or upload it with plannedSchedule)`, 'plannedSchedule');
  }
  const planned = expandScheduleCached(parseSchedule(curve.plannedSchedule));
  const logged = scheduleFromLoggedLrs(curve.points, curve.warmupSteps ?? 0);
  const lrs = new Float64Array(Math.max(planned.length, logged.length));
  lrs.set(planned.subarray(0, lrs.length));
  lrs.set(logged);
  // Before the first logged step nothing was logged: without a declared warmup, the plan says what
  // ran there (its warmup), not the first logged lr held back to step 0 (which inflates S1).
  if (curve.warmupSteps === null) lrs.set(planned.subarray(0, Math.min(curve.points.steps[0] ?? 0, planned.length)));
  return checkRemaining(curve, { lrs, plan: curve.plannedSchedule });
}

function checkRemaining(curve: Curve, run: PlannedRun): PlannedRun {
  if (run.lrs.length - 1 <= curve.lastStep) {
    throw new HttpProblem(
      409,
      `the run's last logged step ${curve.lastStep} is at or past the end of its planned schedule (${run.lrs.length} steps): nothing is left to forecast; plan a longer run with PUT /curves/${curve.id}/plan`,
      'plannedSchedule',
    );
  }
  return run;
}
