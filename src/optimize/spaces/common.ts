/**
 * What the spaces share (all values in units of the peak lr): the problem's constraints, block
 * grids, the projection onto the constraints and the initial shapes of the restarts.
 *
 * Every space maps a batch of parameter rows to block lrs `y` [rows, N] on a block grid (see
 * ../objective.ts) with TF.js ops, and each row to exact per-step float64 lrs for the final answer.
 */
import { projectBox, projectMonotone } from '../project.js';
import { seededRandom } from '../../util/random.js';
import type { Candidate } from './strategy.js';

/** The constraints every candidate satisfies, in peak units. */
export interface Problem {
  totalSteps: number;
  peakLr: number;
  warmupSteps: number;
  /** Fixed leading lrs: the user's prefix, else the warmup (one step at peak without warmup). */
  prefix: Float64Array;
  /** Whether `prefix` is the user's (a run so far) rather than the warmup. */
  fixedPrefix: boolean;
  postSteps: number;
  /** The prefix's last lr / peak, where the rest starts (1 after a warmup). */
  yStart: number;
  /** Upper bound of every lr after the prefix: yStart when monotone, else 1. */
  yMax: number;
  /** Lower bound of every post-warmup lr / peak. */
  yMin: number;
  /** Fixed last lr / peak, when asked. */
  yFinal?: number;
  monotone: boolean;
}

/** Block sizes: `n` nearly equal blocks over the post-warmup steps (plus a one-step final block when the final lr is fixed). */
export function gridSizes(problem: Problem, n: number): Float64Array {
  const fixedLast = problem.yFinal !== undefined && problem.postSteps > 1;
  const span = problem.postSteps - (fixedLast ? 1 : 0);
  const blocks = Math.max(1, Math.min(n - (fixedLast ? 1 : 0), span));
  const sizes = new Float64Array(blocks + (fixedLast ? 1 : 0));
  for (let j = 0; j < blocks; j++) sizes[j] = Math.floor(((j + 1) * span) / blocks) - Math.floor((j * span) / blocks);
  if (fixedLast) sizes[blocks] = 1;
  return sizes;
}

/** Center of each block as a fraction of the post-warmup span, in [0, 1). */
export function blockCenters(sizes: Float64Array): Float64Array {
  let total = 0;
  for (const s of sizes) total += s;
  const out = new Float64Array(sizes.length);
  let start = 0;
  for (let j = 0; j < sizes.length; j++) {
    out[j] = (start + (sizes[j]! - 1) / 2) / total;
    start += sizes[j]!;
  }
  return out;
}

/** Per-step lrs of a whole run from block values (a staircase), prefix included. */
export function staircaseLrs(problem: Problem, sizes: Float64Array, y: ArrayLike<number>): Float64Array {
  const lrs = new Float64Array(problem.totalSteps);
  lrs.set(problem.prefix);
  let s = problem.prefix.length;
  for (let j = 0; j < sizes.length; j++) {
    const lr = y[j]! * problem.peakLr;
    for (let t = 0; t < sizes[j]!; t++) lrs[s++] = lr;
  }
  return lrs;
}

/** Lower bound of the post-warmup values (monotone runs never go below a fixed final lr). */
export function floorOf(problem: Problem): number {
  return problem.monotone && problem.yFinal !== undefined ? Math.max(problem.yMin, problem.yFinal) : problem.yMin;
}

/** Project one row of block / knot values onto the constraints. */
export function projectValues(problem: Problem, x: Float64Array, off: number, n: number): void {
  const fixedLast = problem.yFinal !== undefined;
  const free = fixedLast ? n - 1 : n;
  const lo = floorOf(problem);
  if (problem.monotone) projectMonotone(x, off, free, lo, problem.yMax);
  else projectBox(x, off, free, lo, problem.yMax);
  if (fixedLast) x[off + n - 1] = problem.yFinal!;
}

type ShapeKind = 'cosine' | 'linear' | 'exp' | 'sqrt' | 'steps';

/** One initial shape at position `c` in [0, 1]: from `top` (before `start`) down to `end`. */
function shapeValue(kind: ShapeKind, c: number, start: number, top: number, end: number, plateaus: number): number {
  const t = Math.min(1, Math.max(0, (c - start) / Math.max(1e-9, 1 - start)));
  switch (kind) {
    case 'cosine':
      return end + 0.5 * (top - end) * (1 + Math.cos(Math.PI * t));
    case 'linear':
      return top + (end - top) * t;
    case 'exp':
      return top * (Math.max(end, 1e-4 * top) / top) ** t;
    case 'sqrt':
      return end + (top - end) * (1 - Math.sqrt(t));
    default:
      return top + (end - top) * (t >= 1 ? 1 : Math.ceil(t * plateaus) / plateaus);
  }
}

/**
 * Initial shapes, evaluated at positions `c` in [0, 1] of the post-warmup span, from the lr the rest
 * starts at (the peak after a warmup): row 0 cosine to 0.1, row 1 linear to the floor, the rest
 * WSD-like decays with random start, end, shape and (for some) a few plateaus, so the batch
 * explores staircases as well as smooth decays.
 */
export function initialShapes(problem: Problem, c: Float64Array, rows: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const lo = floorOf(problem);
  const end0 = problem.yFinal ?? Math.max(lo, 0.1);
  const out = new Float64Array(rows * c.length);
  for (let r = 0; r < rows; r++) {
    const kind: ShapeKind = r === 0 ? 'cosine' : r === 1 ? 'linear' : (['linear', 'exp', 'steps', 'sqrt'] as const)[Math.floor(random() * 4)]!;
    const start = r < 2 ? 0 : 0.4 + 0.55 * random() ** 0.7;
    const end = r === 0 ? end0 : r === 1 ? problem.yFinal ?? lo : problem.yFinal ?? lo + (0.15 - lo * 0.15) * random() ** 2;
    const plateaus = 2 + Math.floor(random() * 5);
    const top = problem.yStart;
    for (let j = 0; j < c.length; j++) out[r * c.length + j] = shapeValue(kind, c[j]!, start, top, Math.min(end, top), plateaus);
  }
  return out;
}

/** Row indices of a batch ordered by their loss, best first. */
export function rowsByLoss(loss: ArrayLike<number>): number[] {
  return Array.from({ length: loss.length }, (_, r) => r).sort((a, b) => loss[a]! - loss[b]!);
}

/**
 * A copy of `values` with the rises in [from, to) flattened: the running minimum there, raised to
 * `floor` (a pinned final lr, so that the rise to it at the end goes too).
 */
export function flattenRises(values: Float64Array, from: number, to: number, floor = -Infinity): Float64Array {
  const out = Float64Array.from(values);
  for (let i = Math.max(1, from); i < to; i++) out[i] = Math.max(floor, Math.min(out[i]!, out[i - 1]!));
  return out;
}

/**
 * Without monotonicity the search leaves rises that do not pay (often tiny ones): `best`, or a copy
 * with the rises of its `values` (per-step lrs or knots, from `from`) flattened when that scores no
 * worse under `score`. With a pinned final lr, flattened once above it and once below it (keeping
 * the last rise).
 */
export function withoutRises(
  problem: Problem,
  score: (lrs: Float64Array) => number,
  best: Candidate,
  values: Float64Array,
  from: number,
  toLrs: (values: Float64Array) => Float64Array,
): Candidate {
  const n = values.length;
  const pinned = problem.yFinal !== undefined;
  const tries = pinned ? [flattenRises(values, from, n - 1), flattenRises(values, from, n - 1, values[n - 1])] : [flattenRises(values, from, n)];
  for (const flat of tries) {
    const lrs = toLrs(flat);
    const loss = score(lrs);
    if (loss <= best.loss) best = { lrs, loss };
  }
  return best;
}
