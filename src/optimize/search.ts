/**
 * Batched projected Adam: all candidates (restarts) of a space are the rows of one tensor; the
 * final-step loss of every row and its gradient come from TF.js autodiff in one call; the Adam
 * moments, the step and the projection onto the constraints run on the host in float64 (the
 * parameters are small next to the per-step tensors the objective builds from them).
 */
import { tf } from './backend.js';
import type { FinalLossObjective } from './objective.js';

/** A batch of candidates in one parameterization, evaluated on one block grid. */
export interface SpaceBatch {
  rows: number;
  /** Parameters per row. */
  dim: number;
  /** Initial parameters, row-major [rows * dim] (already feasible). */
  theta: Float64Array;
  /** Block sizes of the grid the objective uses (sum = post-warmup steps). */
  sizes: tf.Tensor1D;
  /** Block lrs in peak units [rows, N] from the parameters [rows, dim] (differentiable). */
  toY(theta: tf.Tensor2D): tf.Tensor2D;
  /** Project row `r` of `theta` onto the constraints, in place. */
  project(theta: Float64Array, r: number): void;
  /** Adam step size (in parameter units) at the start; decays by cosine to a hundredth. */
  stepSize: number;
  dispose?(): void;
}

export interface AdamOptions {
  maxIterations: number;
  /** Stop when the best loss improved by less than `tolerance` over the last `patience` iterations. */
  patience?: number;
  tolerance?: number;
  /** Wall-clock deadline (performance.now() milliseconds). */
  deadline: number;
  signal?: AbortSignal;
  /** Called every `reportEvery` iterations with the iteration and the best float32 loss so far. */
  onReport?(iteration: number, bestLoss: number): void;
  reportEvery?: number;
}

export interface AdamResult {
  /** Best parameters seen per row [rows * dim]. */
  theta: Float64Array;
  /** Their float32 objective values. */
  loss: Float64Array;
  iterations: number;
}

export class AbortError extends Error {
  constructor(message = 'optimization aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function adamSearch(objective: FinalLossObjective, space: SpaceBatch, options: AdamOptions): Promise<AdamResult> {
  const { rows, dim } = space;
  const theta = Float64Array.from(space.theta);
  for (let r = 0; r < rows; r++) space.project(theta, r);
  const best = Float64Array.from(theta);
  const bestLoss = new Float64Array(rows).fill(Infinity);
  const m = new Float64Array(rows * dim);
  const v = new Float64Array(rows * dim);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-12;
  const patience = options.patience ?? 150;
  const tolerance = options.tolerance ?? 2e-7;
  const reportEvery = options.reportEvery ?? 25;
  const history: number[] = [];
  let rowLoss: tf.Tensor1D | undefined;
  const valueAndGrad = tf.valueAndGrad((t: tf.Tensor) => {
    const per = objective.loss(space.toY(t as tf.Tensor2D), space.sizes);
    rowLoss = tf.keep(per);
    return tf.sum(per) as tf.Scalar;
  });
  let it = 0;
  let lastYield = performance.now();
  for (; it < options.maxIterations; it++) {
    if (options.signal?.aborted) throw new AbortError();
    const input = tf.tensor2d(Float32Array.from(theta), [rows, dim]);
    const { value, grad } = valueAndGrad(input);
    const g = grad.dataSync() as Float32Array;
    const per = rowLoss!.dataSync() as Float32Array;
    tf.dispose([input, value, grad, rowLoss!]);
    let overall = Infinity;
    for (let r = 0; r < rows; r++) {
      const l = per[r]!;
      if (Number.isFinite(l) && l < bestLoss[r]!) {
        bestLoss[r] = l;
        best.set(theta.subarray(r * dim, (r + 1) * dim), r * dim);
      }
      if (bestLoss[r]! < overall) overall = bestLoss[r]!;
    }
    history.push(overall);
    if (options.onReport && it % reportEvery === 0) options.onReport(it, overall);
    if (it >= patience && history[it - patience]! - overall < tolerance) break;
    if (performance.now() > options.deadline) break;
    // Adam step with a cosine-decayed step size, then projection.
    const step = space.stepSize * (0.01 + 0.99 * 0.5 * (1 + Math.cos((Math.PI * it) / options.maxIterations)));
    const c1 = 1 - beta1 ** (it + 1);
    const c2 = 1 - beta2 ** (it + 1);
    for (let i = 0; i < theta.length; i++) {
      const gi = Number.isFinite(g[i]!) ? g[i]! : 0;
      m[i] = beta1 * m[i]! + (1 - beta1) * gi;
      v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
      theta[i] = theta[i]! - (step * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
    }
    for (let r = 0; r < rows; r++) space.project(theta, r);
    if (performance.now() - lastYield > 50) {
      await yieldToLoop();
      lastYield = performance.now();
    }
  }
  return { theta: best, loss: bestLoss, iterations: Math.min(it + 1, options.maxIterations) };
}
