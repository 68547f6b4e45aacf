/**
 * `wsd`: warmup-stable-decay with a free decay start and final lr, one shape per row (exp, linear,
 * sqrt, cosine as in the schedule grammar). Adam on a grid of 512 blocks, then exact integer decay
 * starts around the best rows' evaluated in float64; the answer keeps its wsd-family spec.
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

/** Block lrs [rows, N] of each shape at block centers `centers` [1, N], masked to the rows of that shape. */
function wsdY(theta: tf.Tensor2D, rows: number, centers: tf.Tensor2D, shapeMasks: tf.Tensor2D[]): tf.Tensor2D {
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
    toY: (theta) => wsdY(theta, rows, centers, shapeMasks),
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
      const final = problem.yFinal ?? (shape === 'exp' ? Math.max(0.1, EXP_FLOOR) : Math.max(problem.yMin, 0.02 * random()));
      init.push(start, final);
    }
  }
  return { shapes: rowShapes, init: Float64Array.from(init) };
}

/** Exact integer decay starts around each of the best rows, evaluated in float64; the best of them. */
function bestFamilySchedule(ctx: SearchContext, shapes: WsdShape[], theta: Float64Array, order: number[]): Candidate {
  const { problem, req } = ctx;
  const head = `peak=${problem.peakLr},warmup=${req.warmupSteps},total=${req.totalSteps}`;
  const first = problem.prefix.length;
  let best: Candidate | undefined;
  for (const r of order) {
    const final = theta[2 * r + 1]! * problem.peakLr;
    const center = first + Math.round(theta[2 * r]! * problem.postSteps);
    const finalText = req.finalLr !== undefined ? String(req.finalLr) : String(Number(final.toPrecision(12)));
    for (const delta of [0, -1, 1, -8, 8, -32, 32]) {
      // Each candidate costs a full-length float64 evaluation: past the deadline, keep the best so far.
      if (best && ctx.pastDeadline()) return best;
      const decayStart = Math.min(req.totalSteps - 1, Math.max(first, center + delta));
      const familySchedule = `wsd:${head},decayStart=${decayStart},final=${finalText},shape=${shapes[r]!}`;
      let lrs: Float64Array;
      try {
        lrs = expandSchedule(familySchedule);
      } catch {
        continue;
      }
      const loss = ctx.evaluate(lrs);
      if (!best || loss < best.loss) best = { lrs, loss, familySchedule };
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
