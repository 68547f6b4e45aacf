/**
 * `piecewise`: `pieces` linear segments between knots at fixed, evenly spaced steps of the
 * post-warmup span; the knot values are free (non-increasing when monotone). The restarts run on a
 * grid of 1,024 blocks, the best two are refined on the fine grid (every step for runs up to
 * 65,536 post-warmup steps).
 */
import { tf } from '../backend.js';
import { interpolateKnots } from '../../schedule/expand.js';
import type { SpaceBatch } from '../search.js';
import type { SearchContext } from '../context.js';
import { gridSizes, initialShapes, projectValues, rowsByLoss, withoutRises, type Problem } from './common.js';
import type { Candidate, Strategy } from './strategy.js';

const PIECEWISE_BLOCKS = 1024;
const FINE_BLOCKS_MAX = 65_536;

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

/** Per-step lrs of a whole run from knot values (peak units) at `offsets`. */
function knotLrs(problem: Problem, offsets: number[], values: ArrayLike<number>): Float64Array {
  const lrs = new Float64Array(problem.totalSteps);
  lrs.set(problem.prefix);
  const post = interpolateKnots(offsets, Array.from(values, (v) => v * problem.peakLr), problem.postSteps);
  lrs.set(post, problem.prefix.length);
  return lrs;
}

async function searchPiecewise(ctx: SearchContext): Promise<Candidate> {
  const { problem, req } = ctx;
  const offsets = knotOffsets(problem, req.pieces);
  const k = offsets.length;
  const toLrs = (values: ArrayLike<number>) => knotLrs(problem, offsets, values);
  const candidate = (theta: Float64Array, r: number): Candidate => {
    const lrs = toLrs(theta.subarray(r * k, r * k + k));
    return { lrs, loss: ctx.score(lrs) };
  };
  // Knot positions as fractions of the span, for the initial shapes.
  const positions = Float64Array.from(offsets, (o) => o / Math.max(1, problem.postSteps - 1));
  const init = initialShapes(problem, positions, req.restarts, ctx.seed);
  const result = await ctx.stage(piecewiseBatch(problem, offsets, gridSizes(problem, PIECEWISE_BLOCKS), init, 0.01), {
    objective: 'coarse',
    maxIterations: 1500,
    deadline: ctx.searchAt(0.7),
    progressFrom: 0,
    progressTo: 0.7,
    patience: 150,
  });
  const top = rowsByLoss(result.loss).slice(0, 2);
  let best = candidate(result.theta, top[0]!);
  if (!ctx.pastDeadline(50)) {
    const fineInit = new Float64Array(top.length * k);
    top.forEach((r, i) => fineInit.set(result.theta.subarray(r * k, r * k + k), i * k));
    const fine = gridSizes(problem, FINE_BLOCKS_MAX);
    const refined = await ctx.stage(piecewiseBatch(problem, offsets, fine, fineInit, 0.002), {
      objective: 'fine',
      maxIterations: 300,
      deadline: ctx.deadline,
      progressFrom: 0.7,
      progressTo: 0.98,
    });
    for (const c of [...top.map((_, r) => candidate(refined.theta, r)), ...top.slice(1).map((r) => candidate(result.theta, r))]) {
      if (c.loss < best.loss) best = c;
    }
  }
  // Rises flattened on the knot values, which keeps the pieces.
  if (!problem.monotone) {
    const knots = Float64Array.from(offsets, (o) => best.lrs[problem.prefix.length + o]! / problem.peakLr);
    best = withoutRises(problem, (lrs) => ctx.score(lrs), best, knots, 0, toLrs);
  }
  return best;
}

export const piecewise: Strategy = { space: 'piecewise', search: searchPiecewise };
