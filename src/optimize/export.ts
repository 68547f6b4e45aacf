/**
 * Per-step lrs -> a `piecewise:` spec whose expansion (src/schedule/expand.ts) is the schedule
 * returned to the user. Knots: step 0 and the end of the warmup (which reproduce the grammar's
 * linear warmup bit for bit), or the exact knots of a fixed prefix (a run so far, prefix.ts), then
 * the later steps where the slope changes, thinned by a Douglas-Peucker pass at a tolerance whose
 * effect on the predicted final loss is negligible. The caller re-expands the spec and uses those
 * lrs, so spec and lrs agree exactly.
 */
import { expandSchedule } from '../schedule/expand.js';
import { exactKnots } from './prefix.js';

export interface SpecOptions {
  peakLr: number;
  /** Number of fixed leading steps (the warmup; 1 without warmup). */
  prefixLength: number;
  /** Lowest allowed post-warmup lr (values are formatted without crossing it). */
  floorLr: number;
  /** Largest deviation of a thinned knot line from the input lrs (0: only exact slope changes). */
  tolerance: number;
  /** A fixed last lr: the expansion must end on it exactly (see toPiecewiseSpec). */
  finalLr?: number;
  /** The first `prefixLength` lrs are a fixed prefix to reproduce bit for bit (not the grammar's warmup). */
  fixedPrefix?: boolean;
}

/** Knot texts of the fixed leading steps: the grammar's warmup (two knots), or the exact knots of a prefix. */
function prefixParts(lrs: Float64Array, options: SpecOptions): string[] {
  const { peakLr: peak, prefixLength: p } = options;
  if (options.fixedPrefix) return exactKnots(lrs.subarray(0, p)).map((s) => `${s}=${lrs[s]! + 0}`);
  return p > 1 ? [`0=0`, `${p - 1}=${peak}`] : [`0=${peak}`];
}

/** Shortest decimal of `v` (12 significant digits) that stays within [lo, hi]. */
function formatLr(v: number, lo: number, hi: number): string {
  if (v >= hi) return String(hi);
  if (v <= lo) return String(lo);
  const short = Number(v.toPrecision(12));
  return short >= lo && short <= hi ? String(short) : String(v);
}

/** Steps of the post-warmup part that must be knots for an exact piecewise-linear copy. */
function slopeChanges(lrs: Float64Array, from: number, peak: number): number[] {
  const eps = 1e-15 * peak;
  const knots = [from];
  for (let s = from + 1; s < lrs.length - 1; s++) {
    const curvature = lrs[s + 1]! - 2 * lrs[s]! + lrs[s - 1]!;
    if (Math.abs(curvature) > eps) knots.push(s);
  }
  if (lrs.length - 1 > from) knots.push(lrs.length - 1);
  return knots;
}

/** Douglas-Peucker over candidate knots: keep the ones needed to stay within `tol` of every step. */
function thin(lrs: Float64Array, candidates: number[], tol: number): number[] {
  if (tol <= 0 || candidates.length <= 2) return candidates;
  const keep = new Uint8Array(candidates.length);
  keep[0] = 1;
  keep[candidates.length - 1] = 1;
  const stack: [number, number][] = [[0, candidates.length - 1]];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    if (b - a < 2) continue;
    const s0 = candidates[a]!;
    const s1 = candidates[b]!;
    const v0 = lrs[s0]!;
    const v1 = lrs[s1]!;
    let worst = -1;
    let worstDev = tol;
    for (let c = a + 1; c < b; c++) {
      const s = candidates[c]!;
      const dev = Math.abs(lrs[s]! - (v0 + ((v1 - v0) * (s - s0)) / (s1 - s0)));
      if (dev > worstDev) {
        worstDev = dev;
        worst = c;
      }
    }
    // Between candidate knots the lrs are linear, so checking the candidates bounds every step.
    if (worst >= 0) {
      keep[worst] = 1;
      stack.push([a, worst], [worst, b]);
    }
  }
  return candidates.filter((_, i) => keep[i] === 1);
}

/** The piecewise spec of `lrs` and its exact expansion. */
export function toPiecewiseSpec(lrs: Float64Array, options: SpecOptions): { spec: string; lrs: Float64Array } {
  const { peakLr: peak, prefixLength: p, floorLr, tolerance } = options;
  const parts = prefixParts(lrs, options);
  const knots = thin(lrs, slopeChanges(lrs, p, peak), tolerance);
  const build = (steps: number[]) => {
    const spec = `piecewise:${[...parts, ...steps.map((s) => `${s}=${formatLr(lrs[s]!, floorLr, peak)}`)].join(';')}`;
    return { spec, lrs: expandSchedule(spec) };
  };
  let out = build(knots);
  // Interpolation can miss the last knot's value by an ulp ((v1 - v0) * n / n); a knot one step
  // earlier makes the last difference exact whenever lr[T-2] <= 2 lr[T-1] (Sterbenz).
  const last = lrs.length - 1;
  if (options.finalLr !== undefined && out.lrs[last] !== options.finalLr && knots.length >= 2 && knots[knots.length - 2]! < last - 1) {
    out = build([...knots.slice(0, -1), last - 1, last]);
  }
  return out;
}
