/**
 * `free`: one value per block of steps (one per step at full resolution), i.e. one non-negative
 * decrement per block when monotone; projected by isotonic regression and clipping.
 *
 * Coarse to fine: the restarts run on grids of 64 and 128 blocks of equal lr, where the law is exact
 * for the resulting staircase; the best two staircases are then refined on the fine grid: one block
 * per step for runs up to 65,536 post-warmup steps, 65,536 blocks beyond. Starting the refinement
 * from the staircases themselves matters: the law favours sharp drops, and a start interpolated
 * between block centers ends about 2e-3 higher at 24,000 steps (bench/optimize.ts).
 *
 * The answer is never a coarse staircase: when the budget runs out before the refinement can start,
 * the best staircase is interpolated linearly between its block centers to every step, and the
 * answer warns that it stopped at that grid (its resolution in steps, and both predicted losses).
 */
import { tf } from '../backend.js';
import type { SpaceBatch } from '../search.js';
import type { SearchContext } from '../context.js';
import { blockCenters, gridSizes, initialShapes, projectValues, rowsByLoss, staircaseLrs, withoutRises, type Problem } from './common.js';
import type { Candidate, Strategy } from './strategy.js';

/** Coarse grids (blocks) of the restarts, and the cap on the refinement grid. */
const COARSE_BLOCKS = [64, 128];
const FINE_BLOCKS_MAX = 65_536;
/** Time the refinement needs at least to start (ms before the deadline). */
const REFINE_MARGIN_MS = 50;

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

/**
 * Per-step lrs of a whole run (prefix included) from block values: linear between the block
 * centers, flat before the first and after the last center. Exact at integer centers, so blocks of
 * one step give their values as they are; interpolation keeps the bounds and the monotonicity.
 */
export function interpolatedLrs(problem: Problem, sizes: Float64Array, y: ArrayLike<number>): Float64Array {
  const { prefix, peakLr: peak, postSteps } = problem;
  const n = sizes.length;
  const centers = new Float64Array(n);
  for (let j = 0, start = 0; j < n; start += sizes[j]!, j++) centers[j] = start + (sizes[j]! - 1) / 2;
  const lrs = new Float64Array(problem.totalSteps);
  lrs.set(prefix);
  for (let s = 0, j = 0; s < postSteps; s++) {
    while (j + 1 < n && centers[j + 1]! <= s) j++;
    const v0 = y[j]! * peak;
    if (s <= centers[j]! || j === n - 1) lrs[prefix.length + s] = v0;
    else lrs[prefix.length + s] = v0 + ((y[j + 1]! * peak - v0) * (s - centers[j]!)) / (centers[j + 1]! - centers[j]!);
  }
  return lrs;
}

interface CoarseRow {
  sizes: Float64Array;
  y: Float64Array;
  loss: number;
}

/** Restarts on the coarse grids (60% of the search's time), every row with its float32 loss. */
async function coarseSearch(ctx: SearchContext): Promise<CoarseRow[]> {
  const { problem, req } = ctx;
  const grids = COARSE_BLOCKS.map((n) => gridSizes(problem, n)).filter((g, i, all) => all.findIndex((h) => h.length === g.length) === i);
  const rowsOut: CoarseRow[] = [];
  const coarseEnd = ctx.searchAt(0.6);
  for (let gi = 0; gi < grids.length; gi++) {
    const sizes = grids[gi]!;
    const rows = Math.max(1, Math.round(req.restarts / grids.length));
    const init = initialShapes(problem, blockCenters(sizes), rows, ctx.seed + gi);
    const span = 0.6 / grids.length;
    const result = await ctx.stage(freeBatch(problem, sizes, init, 0.01), {
      objective: 'coarse',
      maxIterations: 1500,
      deadline: coarseEnd,
      progressFrom: gi * span,
      progressTo: (gi + 1) * span,
    });
    for (let r = 0; r < rows; r++) rowsOut.push({ sizes, y: result.theta.slice(r * sizes.length, (r + 1) * sizes.length), loss: result.loss[r]! });
  }
  return rowsOut;
}

/** Refine `top` (per-step lrs) on the fine grid; the best of them and their refinements. */
async function refine(ctx: SearchContext, top: Candidate[], fine: Float64Array): Promise<Candidate> {
  const { problem } = ctx;
  const init = new Float64Array(top.length * fine.length);
  top.forEach((c, r) => {
    let s = problem.prefix.length;
    for (let j = 0; j < fine.length; j++) {
      init[r * fine.length + j] = c.lrs[s]! / problem.peakLr;
      s += fine[j]!;
    }
  });
  const result = await ctx.stage(freeBatch(problem, fine, init, 0.002), {
    objective: 'fine',
    maxIterations: 400,
    deadline: ctx.deadline,
    progressFrom: 0.6,
    progressTo: 0.98,
  });
  let best = top[0]!;
  for (let r = 0; r < top.length; r++) {
    const lrs = staircaseLrs(problem, fine, result.theta.subarray(r * fine.length, (r + 1) * fine.length));
    const loss = ctx.score(lrs);
    if (loss < best.loss) best = { lrs, loss };
  }
  return best;
}

/**
 * No time left to refine: the best coarse staircase interpolated to every step, with a warning that
 * names the grid it stopped at and what the staircase itself predicts (the law favours sharp drops,
 * so the interpolation usually predicts a little worse: the price of a schedule free at every step).
 */
function unrefined(ctx: SearchContext, staircase: Candidate, sizes: Float64Array, y: Float64Array): Candidate {
  const lrs = interpolatedLrs(ctx.problem, sizes, y);
  const candidate = { lrs, loss: ctx.score(lrs) };
  const steps = Math.round(ctx.problem.postSteps / sizes.length);
  ctx.warn(
    `free space: the time budget of ${ctx.req.budgetMs} ms ran out before the refinement at every step (resolution: ${steps} steps): ` +
      `the schedule was searched as a staircase of ${sizes.length} blocks of about ${steps} steps and is interpolated linearly between their centers to every step ` +
      `(predicted ${candidate.loss.toFixed(6)} against ${staircase.loss.toFixed(6)} for the staircase${ctx.problem.monotone ? '' : ', rise charges included'}): raise budgetMs for a schedule refined at every step`,
  );
  return candidate;
}

async function searchFree(ctx: SearchContext): Promise<Candidate> {
  const { problem } = ctx;
  const coarse = await coarseSearch(ctx);
  const top = rowsByLoss(coarse.map((c) => c.loss))
    .slice(0, 2)
    .map((i) => {
      const lrs = staircaseLrs(problem, coarse[i]!.sizes, coarse[i]!.y);
      return { lrs, loss: ctx.score(lrs), row: coarse[i]! };
    })
    .sort((a, b) => a.loss - b.loss);
  // Refine at (up to) full resolution, starting from the staircases.
  let best = ctx.pastDeadline(REFINE_MARGIN_MS)
    ? unrefined(ctx, top[0]!, top[0]!.row.sizes, top[0]!.row.y)
    : await refine(ctx, top, gridSizes(problem, FINE_BLOCKS_MAX));
  if (!problem.monotone) best = withoutRises(problem, (lrs) => ctx.score(lrs), best, best.lrs, problem.prefix.length, (values) => values);
  return { lrs: best.lrs, loss: best.loss };
}

export const free: Strategy = { space: 'free', search: searchFree };
