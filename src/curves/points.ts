/**
 * Curve points as columns of float64 (step, loss, lr) and their validation.
 * Every rule names the offending point, so a rejected upload says exactly what to fix.
 */
import { badRequest } from '../errors.js';

export const MAX_POINTS = 2_000_000;

export interface PointColumns {
  steps: Float64Array;
  losses: Float64Array;
  /** null when no point carries an lr; NaN for single points without one. */
  lrs: Float64Array | null;
}

/** Check every point; throws a 400 HttpProblem naming the first bad field. */
export function validatePoints(points: PointColumns, label = 'points'): void {
  const { steps, losses, lrs } = points;
  const n = steps.length;
  if (n === 0) throw badRequest('a curve needs at least one point', label);
  if (n > MAX_POINTS) throw badRequest(`${n} points is over the limit of ${MAX_POINTS}`, label);
  for (let i = 0; i < n; i++) {
    const step = steps[i]!;
    if (!Number.isInteger(step) || step < 0) {
      throw badRequest(`step must be a non-negative integer, got ${step}`, `${label}[${i}].step`);
    }
    if (i > 0 && step <= steps[i - 1]!) {
      const what = step === steps[i - 1] ? 'duplicate' : 'decreasing';
      throw badRequest(`${what} step ${step} after step ${steps[i - 1]}: steps must be strictly increasing`, `${label}[${i}].step`);
    }
    const loss = losses[i]!;
    if (!Number.isFinite(loss)) throw badRequest(`loss at step ${step} is not a finite number`, `${label}[${i}].loss`);
    if (loss <= 0) throw badRequest(`loss at step ${step} must be > 0, got ${loss}`, `${label}[${i}].loss`);
    if (lrs) {
      const lr = lrs[i]!;
      if (Number.isNaN(lr)) continue; // this point logged no lr
      if (!Number.isFinite(lr)) throw badRequest(`lr at step ${step} is not a finite number`, `${label}[${i}].lr`);
      if (lr < 0) throw badRequest(`lr at step ${step} must be >= 0, got ${lr}`, `${label}[${i}].lr`);
    }
  }
}

/** Strict number parsing for uploaded values: no empty strings, no hex, no trailing junk. */
export function parseStrictNumber(raw: string): number {
  const text = raw.trim();
  if (text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i.test(text)) return NaN;
  const lower = text.toLowerCase().replace(/^\+/, '');
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return Number(text);
}
