/**
 * The domain of a fit, for prediction intervals: what data the fit saw, small enough to store with
 * the fit (a few KB), and how far a prediction reaches beyond it (the covariates of the interval's
 * model-error term, interval-calibration.ts).
 *
 * A fitted curve's points live in the plane (x, y) = (ln(S(s) / maxLr), lr(s) / maxLr): x is the log
 * of its lr sum, in steps at the fit's largest lr (how far training has got), y its lr in units of
 * that largest lr. The footprint samples each fitted curve over its fitted steps (FOOTPRINT_SAMPLES
 * steps even in log step plus as many even in step, so both its start and its cooldown are covered).
 * A prediction at step s of a schedule then has three covariates:
 *
 *   - `shape`: the distance from its (x, y), with x clamped into the footprint's x range, to the
 *     nearest footprint point, sqrt((kappa dx)^2 + dy^2): 0 on the fitted curves, growing as the
 *     schedule's lr at that stage of training differs from every fitted one (another cooldown, a
 *     constant phase where the fit only saw cosines, another peak). The clamp leaves the distance
 *     in x beyond the fitted range to `horizon`, so a longer run of a fitted schedule is not a
 *     change of shape.
 *   - `horizon`: max(0, ln((s + 1) / maxSteps)), the log of how far the step lies beyond the fit's
 *     longest schedule; it only grows with the step.
 *   - `peak`: how far the schedule's peak lr lies outside the fitted curves' peaks, in log units
 *     (0 inside [min peak, max peak], and within PEAK_TOLERANCE of them: a schedule rebuilt from
 *     logged lrs peaks a few 1e-5 away from the nominal value).
 */
import type { FitCurve } from '../fit/types.js';
import { usablePoints } from '../fit/prepare.js';

/** Peaks within 1% (in log units) of the fitted ones count as the same peak. */
export const PEAK_TOLERANCE = 0.01;

/** Footprint samples per fitted curve, in each of the two spacings (log step, step). */
export const FOOTPRINT_SAMPLES = 64;

export interface FitDomain {
  /** The longest fitted schedule, in steps (StoredFit.maxSteps). */
  maxSteps: number;
  /** The largest lr of the fitted schedules (StoredFit.maxLr). */
  maxLr: number;
  /** Each fitted curve's peak lr. */
  peakLrs: number[];
  /** Footprint points (see the file comment), in curve order. */
  footprint: { x: number[]; y: number[] };
}

/** The footprint steps of a curve fitted from step `first` to `last` (sorted, distinct). */
function footprintSteps(first: number, last: number): number[] {
  const set = new Set<number>([first, last]);
  const lo = Math.log(first + 1);
  const hi = Math.log(last + 1);
  for (let k = 0; k < FOOTPRINT_SAMPLES; k++) {
    const t = k / (FOOTPRINT_SAMPLES - 1);
    set.add(Math.min(last, Math.max(first, Math.round(Math.exp(lo + t * (hi - lo)) - 1))));
    set.add(Math.round(first + t * (last - first)));
  }
  return [...set].sort((a, b) => a - b);
}

/** Inclusive lr sums S(s) at `steps` (any order) of `lrs`. */
export function lrSumsAt(lrs: Float64Array, steps: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: steps.length }, (_, i) => i).sort((a, b) => steps[a]! - steps[b]!);
  const out = new Float64Array(steps.length);
  let sum = 0;
  let at = 0;
  for (const i of order) {
    for (const s = steps[i]!; at <= s && at < lrs.length; at++) sum += lrs[at]!;
    out[i] = sum;
  }
  return out;
}

/**
 * The domain of a fit on `curves` (with the fit's `fromStep`): a curve's fitted steps are its usable
 * points (src/fit/prepare.ts), as the fit's objective sees them.
 */
export function fitDomainOf(curves: readonly FitCurve[], fromStep = 0): FitDomain {
  let maxLr = 0;
  let maxSteps = 0;
  const peakLrs: number[] = [];
  for (const c of curves) {
    let peak = 0;
    for (const lr of c.lrs) if (lr > peak) peak = lr;
    peakLrs.push(peak);
    maxLr = Math.max(maxLr, peak);
    maxSteps = Math.max(maxSteps, c.lrs.length);
  }
  const x: number[] = [];
  const y: number[] = [];
  for (const c of curves) {
    const { steps } = usablePoints(c, fromStep);
    if (steps.length === 0) continue;
    const [first, last] = extent(steps);
    const at = footprintSteps(first, last);
    const S = lrSumsAt(c.lrs, at);
    at.forEach((s, i) => {
      if (!(S[i]! > 0)) return;
      x.push(Math.log(S[i]! / maxLr));
      y.push(c.lrs[s]! / maxLr);
    });
  }
  return { maxSteps, maxLr, peakLrs, footprint: { x, y } };
}

/** The smallest and largest of `values` ([Infinity, -Infinity] when empty). */
function extent(values: Iterable<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return [min, max];
}

/** How far each requested step of a schedule reaches beyond a fit's domain (see the file comment). */
export interface Extrapolation {
  /** Distance to the footprint per step (Infinity where S(s) = 0, or the footprint is empty). */
  shape: Float64Array;
  /** max(0, ln((s + 1) / maxSteps)) per step. */
  horizon: Float64Array;
  /** The schedule's peak lr outside the fitted peaks, in log units, less PEAK_TOLERANCE (one number for the schedule). */
  peak: number;
}

/**
 * The covariates of `steps` of the schedule `lrs` against `domain`, with `kappa` the weight of dx in
 * the shape distance. Cost: steps x footprint points (500 x 4 curves' 130 points: about 0.5 ms).
 */
export function extrapolation(domain: FitDomain, lrs: Float64Array, steps: ArrayLike<number>, kappa: number): Extrapolation {
  const n = steps.length;
  const { x: fx, y: fy } = domain.footprint;
  const m = fx.length;
  const [xMin, xMax] = extent(fx);
  const S = lrSumsAt(lrs, steps);
  const shape = new Float64Array(n);
  const horizon = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    horizon[i] = Math.max(0, Math.log((s + 1) / domain.maxSteps));
    if (!(S[i]! > 0) || m === 0) {
      shape[i] = Infinity;
      continue;
    }
    const x = Math.min(xMax, Math.max(xMin, Math.log(S[i]! / domain.maxLr)));
    const y = lrs[s]! / domain.maxLr;
    let best = Infinity;
    for (let j = 0; j < m; j++) {
      const dx = kappa * (x - fx[j]!);
      const dy = y - fy[j]!;
      const d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2;
    }
    shape[i] = Math.sqrt(best);
  }
  let peakLr = 0;
  for (const lr of lrs) if (lr > peakLr) peakLr = lr;
  const lo = Math.min(...domain.peakLrs);
  const hi = Math.max(...domain.peakLrs);
  const outside = peakLr > 0 && lo > 0 ? Math.max(0, Math.log(peakLr / hi), Math.log(lo / peakLr)) : 0;
  const peak = Math.max(0, outside - PEAK_TOLERANCE);
  return { shape, horizon, peak };
}
