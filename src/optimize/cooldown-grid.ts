/**
 * The candidates of a cooldown plan (cooldown.ts): every (start, length, shape, final lr) of the
 * grid, plus the two reference plans, for a run whose first `now` steps have run at a level lr.
 *
 * A candidate keeps the level from `now` up to its `start`, then decays as the grammar's wsd family
 * does from `start` (the decay start step, still at the level) over `length` steps to
 * `finalFraction` x level, and the run ends there: `end = start + length` steps, the loss is
 * predicted at step end - 1. Grid axes (defaults in CooldownGridInput):
 *   - starts: explicit steps, or `startCount` evenly spaced from now to totalSteps - 2, plus
 *     totalSteps - length for every length (so every length has a plan that uses the whole budget);
 *   - lengths: explicit steps, or `lengthFractions` of totalSteps; a (start, length) past the budget is left out;
 *   - shapes: exp, linear, cosine, sqrt (1 - sqrt); exp is left out at final 0 (it never reaches 0);
 *   - finalFractions of the level.
 * References (both linear to 0, the cooldown of the WSD literature and of the 124M runs):
 *   - coolDownNow: start now, length 20% of the run it ends (now / 4 steps, so that the cooldown is
 *     20% of `end`), capped by the budget;
 *   - continueToBudget: the default 20% cooldown at the end of the budget: start
 *     totalSteps - round(0.2 totalSteps) (not before now), ending at totalSteps.
 */
import { WSD_SHAPES, type WsdShape } from '../schedule/spec.js';
import { fail, isInt } from './request-error.js';

export interface CooldownGridInput {
  /** Cooldown start steps, each in [now, totalSteps - 2] (default: startCount evenly spaced, plus totalSteps - length per length). */
  starts?: number[];
  /** Default 12. */
  startCount?: number;
  /** Cooldown lengths in steps, each >= 2 (default: lengthFractions x totalSteps). */
  lengths?: number[];
  /** Default [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]. */
  lengthFractions?: number[];
  /** Default all four. */
  shapes?: WsdShape[];
  /** Final lr / level lr, each in [0, 1] (default [0, 0.01, 0.1]). */
  finalFractions?: number[];
}

export interface CooldownCandidate {
  /** The decay start step (still at the level lr); the lr is below it from start + 1 on. */
  start: number;
  length: number;
  /** start + length: the run's steps; the loss is at step end - 1. */
  end: number;
  shape: WsdShape;
  finalFraction: number;
}

export const COOLDOWN_DEFAULTS = {
  startCount: 12,
  lengthFractions: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5],
  shapes: WSD_SHAPES,
  finalFractions: [0, 0.01, 0.1],
  /** The default cooldown: 20% of the run, linear to 0. */
  referenceFraction: 0.2,
  referenceShape: 'linear' as WsdShape,
  referenceFinalFraction: 0,
} as const;

export const COOLDOWN_LIMITS = {
  /** Values per axis. */
  maxAxis: 256,
  /** Candidates of a plan (the answer lists them all). */
  maxCandidates: 20_000,
} as const;

/** A list of numbers of at most maxAxis entries, each passing `ok` (400 naming `field[i]`). */
function checkList(values: unknown, field: string, ok: (v: number) => boolean, what: string): number[] {
  if (!Array.isArray(values) || values.length === 0 || values.length > COOLDOWN_LIMITS.maxAxis) {
    fail(`${field} must be a list of 1..${COOLDOWN_LIMITS.maxAxis} values`, field);
  }
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !ok(v)) fail(`${field}[${i}] = ${String(v)} must be ${what}`, `${field}[${i}]`);
  });
  return [...new Set(values as number[])].sort((a, b) => a - b);
}

/** The cooldown lengths of the grid (steps, each in 2..totalSteps - now). */
function gridLengths(grid: CooldownGridInput, now: number, totalSteps: number): number[] {
  const room = totalSteps - now;
  if (grid.lengths !== undefined) {
    if (grid.lengthFractions !== undefined) fail('give either lengths or lengthFractions, not both', 'grid.lengths');
    return checkList(grid.lengths, 'grid.lengths', (v) => isInt(v) && v >= 2 && v <= room, `an integer in 2..${room} (the steps left)`);
  }
  const fractions = checkList(grid.lengthFractions ?? COOLDOWN_DEFAULTS.lengthFractions, 'grid.lengthFractions', (v) => v > 0 && v <= 1, 'in (0, 1]');
  const lengths = fractions.map((f) => Math.min(room, Math.max(2, Math.round(f * totalSteps))));
  return [...new Set(lengths)].sort((a, b) => a - b);
}

/** The cooldown starts of the grid (steps in now..totalSteps - 2). */
function gridStarts(grid: CooldownGridInput, lengths: number[], now: number, totalSteps: number): number[] {
  const last = totalSteps - 2;
  if (grid.starts !== undefined) {
    if (grid.startCount !== undefined) fail('give either starts or startCount, not both', 'grid.starts');
    return checkList(grid.starts, 'grid.starts', (v) => isInt(v) && v >= now && v <= last, `an integer step in ${now}..${last} (from now to totalSteps - 2)`);
  }
  const count = grid.startCount ?? COOLDOWN_DEFAULTS.startCount;
  if (!isInt(count) || count < 1 || count > COOLDOWN_LIMITS.maxAxis) fail(`grid.startCount must be an integer in 1..${COOLDOWN_LIMITS.maxAxis}`, 'grid.startCount');
  const starts = new Set<number>();
  for (let i = 0; i < count; i++) starts.add(count === 1 ? now : now + Math.round((i * (last - now)) / (count - 1)));
  for (const length of lengths) if (totalSteps - length >= now) starts.add(totalSteps - length);
  return [...starts].sort((a, b) => a - b);
}

/** The two reference plans (see the file comment). */
export function referencePlans(now: number, totalSteps: number): { coolDownNow: CooldownCandidate; continueToBudget: CooldownCandidate } {
  const { referenceFraction: fraction, referenceShape: shape, referenceFinalFraction: finalFraction } = COOLDOWN_DEFAULTS;
  // A cooldown of 20% of the run it ends: length = 0.2 (now + length), i.e. now / 4.
  const nowLength = Math.min(totalSteps - now, Math.max(2, Math.round((fraction * now) / (1 - fraction))));
  const budgetStart = Math.min(totalSteps - 2, Math.max(now, totalSteps - Math.round(fraction * totalSteps)));
  const make = (start: number, length: number): CooldownCandidate => ({ start, length, end: start + length, shape, finalFraction });
  return { coolDownNow: make(now, nowLength), continueToBudget: make(budgetStart, totalSteps - budgetStart) };
}

/** A key that tells candidates apart. */
export function candidateKey(c: CooldownCandidate): string {
  return `${c.start}/${c.length}/${c.shape}/${c.finalFraction}`;
}

/**
 * Every candidate of the grid, then the references not already in it (throws OptimizeRequestError
 * naming the grid field at fault, or `grid` when there are more than maxCandidates).
 */
export function cooldownCandidates(grid: CooldownGridInput, now: number, totalSteps: number): CooldownCandidate[] {
  const lengths = gridLengths(grid, now, totalSteps);
  const starts = gridStarts(grid, lengths, now, totalSteps);
  const shapes = grid.shapes ?? COOLDOWN_DEFAULTS.shapes;
  if (!Array.isArray(shapes) || shapes.length === 0 || shapes.some((s) => !WSD_SHAPES.includes(s))) fail(`grid.shapes must list some of ${WSD_SHAPES.join(', ')}`, 'grid.shapes');
  const finals = checkList(grid.finalFractions ?? COOLDOWN_DEFAULTS.finalFractions, 'grid.finalFractions', (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const out: CooldownCandidate[] = [];
  const seen = new Set<string>();
  const add = (c: CooldownCandidate) => {
    const key = candidateKey(c);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
  };
  for (const start of starts) {
    for (const length of lengths) {
      if (start + length > totalSteps) continue;
      for (const shape of new Set(shapes)) {
        for (const finalFraction of finals) {
          if (shape === 'exp' && finalFraction === 0) continue;
          if (out.length >= COOLDOWN_LIMITS.maxCandidates) fail(`the grid has more than ${COOLDOWN_LIMITS.maxCandidates} candidates: give fewer starts, lengths, shapes or final fractions`, 'grid');
          add({ start, length, end: start + length, shape, finalFraction });
        }
      }
    }
  }
  const references = referencePlans(now, totalSteps);
  add(references.coolDownNow);
  add(references.continueToBudget);
  return out;
}
