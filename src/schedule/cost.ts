/**
 * What expanding a schedule costs, and the bound for expanding one on the event loop. The closed-form
 * families cost about 0.05 us a step; `expr` runs its compiled f at every step, about 0.013 us per
 * character of f per step (1000 characters: 12 us a step, so 10,000,000 steps would block for two
 * minutes). Routes that expand a spec inline (uploads with a spec, /schedules/expand) refuse one over
 * INLINE_EXPANSION_MAX_US with a 400 that says how many steps fit; /predict sizes its own work and
 * runs long expansions on worker threads.
 */
import { ScheduleError } from './error.js';
import type { ScheduleSpec } from './spec.js';

/** Estimated cost of expanding `spec`, per step, in microseconds of one core. */
export function expansionUsPerStep(spec: ScheduleSpec | undefined): number {
  if (spec?.family === 'expr') return 0.1 + 0.015 * spec.f.length;
  return 0.07;
}

/** The most expansion work done on the event loop for one request. */
export const INLINE_EXPANSION_MAX_US = 250_000;

/** Refuse (ScheduleError on `total`) an `expr` spec too costly to expand on the event loop; closed forms always pass. */
export function checkInlineExpansion(spec: ScheduleSpec): void {
  if (spec.family !== 'expr') return;
  const perStep = expansionUsPerStep(spec);
  const maxSteps = Math.floor(INLINE_EXPANSION_MAX_US / perStep);
  if (spec.total > maxSteps) {
    throw new ScheduleError(
      `an expr schedule with an f of ${spec.f.length} characters is expanded here for at most ${maxSteps} steps (about ${INLINE_EXPANSION_MAX_US / 1000} ms of work), not ${spec.total}: use fewer steps, a shorter f, or log the lr column instead of a spec`,
      'total',
    );
  }
}
