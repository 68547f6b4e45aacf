/**
 * Parameterizations of the post-warmup schedule (all in units of the peak lr):
 *
 * - `free`: one value per block of steps (one per step at full resolution), i.e. one non-negative
 *   decrement per block when monotone; projected by isotonic regression and clipping.
 * - `piecewise`: `pieces` linear segments between knots at fixed, evenly spaced steps of the
 *   post-warmup span; the knot values are free (non-increasing when monotone).
 * - `wsd`: warmup-stable-decay with a free decay start and final lr, one shape per row
 *   (exp, linear, sqrt, cosine as in the schedule grammar).
 *
 * Every space maps a batch of parameter rows to block lrs `y` [rows, N] on a block grid (see
 * objective.ts) with TF.js ops, and each row to exact per-step float64 lrs for the final answer.
 */
import { tf } from './backend.js';
import type { SpaceBatch } from './search.js';
import { projectBox, projectMonotone } from './project.js';
import { seededRandom } from '../util/random.js';
import type { WsdShape } from '../schedule/spec.js';

export type SpaceName = 'free' | 'piecewise' | 'wsd';
export const SPACES: readonly SpaceName[] = ['free', 'piecewise', 'wsd'];

/** The constraints every candidate satisfies, in peak units. */
export interface Problem {
  totalSteps: number;
  peakLr: number;
  warmupSteps: number;
  /** Fixed leading lrs (the warmup; one step at peak without warmup). */
  prefix: Float64Array;
  postSteps: number;
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
function floorOf(problem: Problem): number {
  return problem.monotone && problem.yFinal !== undefined ? Math.max(problem.yMin, problem.yFinal) : problem.yMin;
}

/** Project one row of block / knot values onto the constraints. */
function projectValues(problem: Problem, x: Float64Array, off: number, n: number): void {
  const fixedLast = problem.yFinal !== undefined;
  const free = fixedLast ? n - 1 : n;
  const lo = floorOf(problem);
  if (problem.monotone) projectMonotone(x, off, free, lo, 1);
  else projectBox(x, off, free, lo, 1);
  if (fixedLast) x[off + n - 1] = problem.yFinal!;
}

/**
 * Initial shapes, evaluated at positions `c` in [0, 1] of the post-warmup span: row 0 cosine to
 * 0.1, row 1 linear to the floor, the rest WSD-like decays with random start, end, shape and
 * (for some) a few plateaus, so the batch explores staircases as well as smooth decays.
 */
export function initialShapes(problem: Problem, c: Float64Array, rows: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const lo = floorOf(problem);
  const end0 = problem.yFinal ?? Math.max(lo, 0.1);
  const out = new Float64Array(rows * c.length);
  for (let r = 0; r < rows; r++) {
    const kind = r === 0 ? 'cosine' : r === 1 ? 'linear' : (['linear', 'exp', 'steps', 'sqrt'] as const)[Math.floor(random() * 4)]!;
    const start = r < 2 ? 0 : 0.4 + 0.55 * random() ** 0.7;
    const end = r === 0 ? end0 : r === 1 ? problem.yFinal ?? lo : problem.yFinal ?? lo + (0.15 - lo * 0.15) * random() ** 2;
    const plateaus = 2 + Math.floor(random() * 5);
    for (let j = 0; j < c.length; j++) {
      const t = Math.min(1, Math.max(0, (c[j]! - start) / Math.max(1e-9, 1 - start)));
      let y: number;
      switch (kind) {
        case 'cosine':
          y = end + 0.5 * (1 - end) * (1 + Math.cos(Math.PI * t));
          break;
        case 'linear':
          y = 1 + (end - 1) * t;
          break;
        case 'exp':
          y = Math.max(end, 1e-4) ** t;
          break;
        case 'sqrt':
          y = end + (1 - end) * (1 - Math.sqrt(t));
          break;
        default:
          y = 1 + (end - 1) * (t >= 1 ? 1 : Math.ceil(t * plateaus) / plateaus);
      }
      out[r * c.length + j] = y;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// free
// ---------------------------------------------------------------------------------------------

/** `rows` candidates with one value per block of the grid `sizes`, starting from `init` [rows * N]. */
export function freeBatch(problem: Problem, sizes: Float64Array, init: Float64Array, stepSize = 0.01): SpaceBatch {
  const n = sizes.length;
  const rows = init.length / n;
  return {
    rows,
    dim: n,
    theta: init,
    sizes: tf.tensor1d(Float32Array.from(sizes)),
    toY: (theta) => theta,
    project: (x, r) => projectValues(problem, x, r * n, n),
    stepSize,
    dispose() {
      this.sizes.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// piecewise
// ---------------------------------------------------------------------------------------------

/** Knot offsets (from the first post-warmup step) of `pieces` even segments: 0 .. postSteps-1. */
export function knotOffsets(problem: Problem, pieces: number): number[] {
  const last = problem.postSteps - 1;
  const count = Math.max(1, Math.min(pieces, last));
  const out: number[] = [];
  for (let i = 0; i <= count; i++) out.push(Math.round((i * last) / count));
  return out;
}


/** Interpolation matrix [knots, blocks]: the mean weight of each knot over each block's steps. */
function knotMatrix(offsets: number[], sizes: Float64Array): Float32Array {
  const k = offsets.length;
  const n = sizes.length;
  const m = new Float32Array(k * n);
  let step = 0;
  for (let j = 0; j < n; j++) {
    const size = sizes[j]!;
    for (let t = 0; t < size; t++, step++) {
      let i = 0;
      while (i + 2 < k && step > offsets[i + 1]!) i++;
      if (k === 1) {
        m[j] = m[j]! + 1 / size;
        continue;
      }
      const s0 = offsets[i]!;
      const s1 = offsets[i + 1]!;
      const w = (step - s0) / (s1 - s0);
      m[i * n + j] = m[i * n + j]! + (1 - w) / size;
      m[(i + 1) * n + j] = m[(i + 1) * n + j]! + w / size;
    }
  }
  return m;
}

export function piecewiseBatch(problem: Problem, offsets: number[], sizes: Float64Array, init: Float64Array, stepSize = 0.01): SpaceBatch {
  const k = offsets.length;
  const rows = init.length / k;
  const matrix = tf.tensor2d(knotMatrix(offsets, sizes), [k, sizes.length]);
  return {
    rows,
    dim: k,
    theta: init,
    sizes: tf.tensor1d(Float32Array.from(sizes)),
    toY: (theta) => tf.matMul(theta, matrix),
    project: (x, r) => projectValues(problem, x, r * k, k),
    stepSize,
    dispose() {
      tf.dispose([this.sizes, matrix]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// wsd
// ---------------------------------------------------------------------------------------------

export const WSD_SEARCH_SHAPES: readonly WsdShape[] = ['exp', 'linear', 'sqrt', 'cosine'];

/** Smallest final lr / peak of an exponential decay (the grammar needs final > 0). */
export const EXP_FLOOR = 1e-4;

/**
 * Rows of `[decay start as a fraction of the post-warmup span, final lr / peak]`, each with its
 * shape. `starts` x shapes rows.
 */
export function wsdBatch(problem: Problem, sizes: Float64Array, shapes: WsdShape[], init: Float64Array, stepSize = 0.01): SpaceBatch {
  const rows = shapes.length;
  const centers = tf.tensor2d(Float32Array.from(blockCenters(sizes)), [1, sizes.length]);
  const lo = floorOf(problem);
  const shapeMasks = WSD_SEARCH_SHAPES.map((shape) => tf.tensor2d(shapes.map((s) => (s === shape ? 1 : 0)), [rows, 1]));
  return {
    rows,
    dim: 2,
    theta: init,
    sizes: tf.tensor1d(Float32Array.from(sizes)),
    toY: (theta) => {
      const start = theta.slice([0, 0], [rows, 1]);
      const final = theta.slice([0, 1], [rows, 1]);
      const t = tf.clipByValue(tf.div(tf.sub(centers, start), tf.sub(1, start)), 0, 1);
      const one = tf.onesLike(t);
      const expY = tf.exp(tf.mul(t, tf.log(tf.maximum(final, EXP_FLOOR))));
      const linY = tf.add(one, tf.mul(tf.sub(final, 1), t));
      const sqrtY = tf.add(final, tf.mul(tf.sub(1, final), tf.sub(1, tf.sqrt(tf.add(t, 1e-12)))));
      const cosY = tf.add(final, tf.mul(tf.mul(tf.sub(1, final), 0.5), tf.add(1, tf.cos(tf.mul(t, Math.PI)))));
      const parts = [expY, linY, sqrtY, cosY].map((y, i) => tf.mul(y, shapeMasks[i]!));
      return tf.addN(parts) as tf.Tensor2D;
    },
    project: (x, r) => {
      x[2 * r] = Math.min(0.999, Math.max(0, x[2 * r]!));
      const floor = shapes[r] === 'exp' ? Math.max(lo, EXP_FLOOR) : lo;
      x[2 * r + 1] = problem.yFinal ?? Math.min(1, Math.max(floor, x[2 * r + 1]!));
    },
    stepSize,
    dispose() {
      tf.dispose([this.sizes, centers, ...shapeMasks]);
    },
  };
}
