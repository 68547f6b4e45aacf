/**
 * `wsd`: warmup-stable-decay with a free decay start and final lr, one shape per row (exp, linear,
 * sqrt, cosine as in the schedule grammar). Adam on a grid of 512 blocks, then exact integer decay
 * starts around the best rows' evaluated in float64; the answer keeps its wsd-family spec.
 *
 * After a fixed prefix (a run so far) the stable phase continues at the prefix's last lr (the
 * `level`, 1 after a warmup) and the decay start is free anywhere after the prefix; the answer
 * then keeps the wsd spec of the rest (`restSchedule`, its step 0 the first step after the prefix).
 */
import { tf } from '../backend.js';
import { expandSchedule } from '../../schedule/expand.js';
import type { WsdShape } from '../../schedule/spec.js';
import { seededRandom } from '../../util/random.js';
import type { SpaceBatch } from '../search.js';
import type { SearchContext } from '../context.js';
import { blockCenters, floorOf, gridSizes, rowsByLoss, type Problem } from './common.js';
import type { Candidate, Strategy } from './strategy.js';

const WSD_BLOCKS = 512;

export const WSD_SEARCH_SHAPES: readonly WsdShape[] = ['exp', 'linear', 'sqrt', 'cosine'];

/** Smallest final lr / peak of an exponential decay (the grammar needs final > 0). */
export const EXP_FLOOR = 1e-4;

/**
 * Block lrs [rows, N] of each shape at block centers `centers` [1, N], masked to the rows of that
 * shape, decaying from `level` (1 after a warmup, the prefix's last lr / peak after a run so far).
 */
function wsdY(theta: tf.Tensor2D, rows: number, centers: tf.Tensor2D, shapeMasks: tf.Tensor2D[], level: number): tf.Tensor2D {
  const start = theta.slice([0, 0], [rows, 1]);
  const final = theta.slice([0, 1], [rows, 1]);
  const t = tf.clipByValue(tf.div(tf.sub(centers, start), tf.sub(1, start)), 0, 1);
  const top = tf.mul(tf.onesLike(t), level);
  const expY = tf.mul(tf.exp(tf.mul(t, tf.log(tf.div(tf.maximum(final, EXP_FLOOR * level), level)))), level);
  const linY = tf.add(top, tf.mul(tf.sub(final, level), t));
  const sqrtY = tf.add(final, tf.mul(tf.sub(level, final), tf.sub(1, tf.sqrt(tf.add(t, 1e-12)))));
  const cosY = tf.add(final, tf.mul(tf.mul(tf.sub(level, final), 0.5), tf.add(1, tf.cos(tf.mul(t, Math.PI)))));
  const parts = [expY, linY, sqrtY, cosY].map((y, i) => tf.mul(y, shapeMasks[i]!));
  return tf.addN(parts) as tf.Tensor2D;
}

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
    toY: (theta) => wsdY(theta, rows, centers, shapeMasks, problem.yStart),
    project: (x, r) => {
      x[2 * r] = Math.min(0.999, Math.max(0, x[2 * r]!));
      const floor = shapes[r] === 'exp' ? Math.max(lo, EXP_FLOOR * problem.yStart) : lo;
      x[2 * r + 1] = problem.yFinal ?? Math.min(problem.yStart, Math.max(floor, x[2 * r + 1]!));
    },
    stepSize,
    dispose() {
      tf.dispose([this.sizes, centers, ...shapeMasks]);
    },
  };
}

/** Initial rows: `starts` decay starts spread over [0.3, 0.98] of the span, each with every shape. */
function initialRows(problem: Problem, restarts: number, seed: number): { shapes: WsdShape[]; init: Float64Array } {
  const shapes = WSD_SEARCH_SHAPES.filter((s) => s !== 'exp' || (problem.yFinal ?? 1) > 0);
  const starts = Math.max(1, Math.ceil(restarts / shapes.length));
  const random = seededRandom(seed);
  const rowShapes: WsdShape[] = [];
  const init: number[] = [];
  for (let i = 0; i < starts; i++) {
    for (const shape of shapes) {
      rowShapes.push(shape);
      const start = starts === 1 ? 0.8 : 0.3 + (0.68 * i) / (starts - 1);
      const final = problem.yFinal ?? problem.yStart * (shape === 'exp' ? Math.max(0.1, EXP_FLOOR) : Math.max(problem.yMin / problem.yStart, 0.02 * random()));
      init.push(start, final);
    }
  }
  return { shapes: rowShapes, init: Float64Array.from(init) };
}

/**
 * The candidate of a wsd spec decaying at `decayStart` (a step of the whole run): the whole-run spec
 * after a warmup; after a fixed prefix, the prefix followed by the spec of the rest. Undefined for
 * a spec the grammar refuses.
 */
function wsdCandidate(ctx: SearchContext, decayStart: number, finalText: string, shape: WsdShape): Omit<Candidate, 'loss'> | undefined {
  const { problem, req } = ctx;
  const P = problem.prefix.length;
  try {
    if (!problem.fixedPrefix) {
      const familySchedule = `wsd:peak=${problem.peakLr},warmup=${req.warmupSteps},total=${req.totalSteps},decayStart=${decayStart},final=${finalText},shape=${shape}`;
      return { lrs: expandSchedule(familySchedule), familySchedule };
    }
    const level = problem.prefix[P - 1]!;
    const restSchedule = `wsd:peak=${level},warmup=0,total=${req.totalSteps - P},decayStart=${decayStart - P},final=${finalText},shape=${shape}`;
    const lrs = new Float64Array(req.totalSteps);
    lrs.set(problem.prefix);
    lrs.set(expandSchedule(restSchedule), P);
    return { lrs, restSchedule };
  } catch {
    return undefined;
  }
}

/** Exact integer decay starts around each of the best rows, evaluated in float64; the best of them. */
function bestFamilySchedule(ctx: SearchContext, shapes: WsdShape[], theta: Float64Array, order: number[]): Candidate {
  const { problem, req } = ctx;
  const first = problem.prefix.length;
  // The decay never starts above the level it decays from (a final written to 12 digits could round past it).
  const levelLr = problem.yStart * problem.peakLr;
  let best: Candidate | undefined;
  for (const r of order) {
    const final = Math.min(levelLr, theta[2 * r + 1]! * problem.peakLr);
    const center = first + Math.round(theta[2 * r]! * problem.postSteps);
    const finalText = req.finalLr !== undefined ? String(req.finalLr) : String(Math.min(levelLr, Number(final.toPrecision(12))));
    for (const delta of [0, -1, 1, -8, 8, -32, 32]) {
      // Each candidate costs a full-length float64 evaluation: past the deadline, keep the best so far.
      if (best && ctx.pastDeadline()) return best;
      const decayStart = Math.min(req.totalSteps - 1, Math.max(first, center + delta));
      const candidate = wsdCandidate(ctx, decayStart, finalText, shapes[r]!);
      if (!candidate) continue;
      const loss = ctx.evaluate(candidate.lrs);
      if (!best || loss < best.loss) best = { ...candidate, loss };
    }
  }
  if (!best) throw new Error('no valid wsd candidate');
  return best;
}

async function searchWsd(ctx: SearchContext): Promise<Candidate> {
  const { problem } = ctx;
  const { shapes, init } = initialRows(problem, ctx.req.restarts, ctx.seed);
  const batch = wsdBatch(problem, gridSizes(problem, WSD_BLOCKS), shapes, init, 0.01);
  const result = await ctx.stage(batch, { objective: 'coarse', maxIterations: 800, deadline: ctx.deadline, progressFrom: 0, progressTo: 0.95 });
  const distinctShapes = new Set(shapes).size;
  const order = rowsByLoss(result.loss).slice(0, 2 * distinctShapes);
  return bestFamilySchedule(ctx, shapes, result.theta, order);
}

export const wsd: Strategy = { space: 'wsd', search: searchWsd };
