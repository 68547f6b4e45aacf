/**
 * The multi-power law's final-step loss as a differentiable TF.js function of a batch of
 * schedules, exact for schedules that are constant within blocks of steps.
 *
 * A schedule is a fixed prefix (the linear warmup, or a run so far: steps 0 .. P-1) followed by `N` blocks of
 * `m_j` steps each, block `j` at the learning rate `peak * y_j` (all values are in units of the
 * peak lr, `y` in [0, 1]). With lr constant inside a block, the law's loss-drop sum has one term per
 * block start (lr[k] - lr[k-1] = 0 elsewhere), so for the final step T-1:
 *
 *   S(T-1)         = W + sum_j m_j y_j                      (W: the prefix sum, in peak units)
 *   S(T-1)-S(k_j-1) = sum_{i>=j} m_i y_i                     (a reverse cumulative sum: no cancellation)
 *   loss = L0 + A' S^-alpha + B' [ sum_prefix dy_k (1 - (1 + C' y_k^-gamma (G_k + Ypost))^-beta)
 *                                 + sum_j (y_j - y_{j-1}) (1 - (1 + C' y_j^-gamma gap_j)^-beta) ]
 *
 * with A' = A peak^-alpha, B' = B peak, C' = C peak^(1-gamma), G_k = the prefix's own part of the gap
 * (float64, precomputed) and Ypost = sum_j m_j y_j. Blocks of one step give the law exactly at full
 * resolution; coarser blocks give it exactly for staircase schedules (the coarse-to-fine stage).
 * `1 - (1+u)^-beta` is evaluated as `-expm1(-beta log1p(u))` to keep float32 digits for small u.
 * Learning rate 0 (lr^-gamma infinite): y is floored at a tiny value inside the power, which gives
 * the law's limit (a step at lr 0 after steps at lr 0 contributes nothing; see src/laws/mpl.ts).
 *
 * Schedules that raise the lr (`monotone: false`) are outside what the law was fitted on, and there
 * it rewards oscillation without bound: a drop from x to y realizes its loss drop at the faster rate
 * C y^-gamma, the rise back recovers it at the slower C x^-gamma, so every down-up cycle nets a gain
 * (all of it at once when y = 0), and many cycles drive the predicted loss below L0. A floor on the lr
 * does not stop it (a floor of 0.1 x peak still reaches a predicted loss of -0.2 at 24,000 steps).
 * With `chargeRises` the objective adds B' x (each rise, in peak units): a rise then costs more than
 * the largest drop it can enable (B' times its size), so no cycle pays and the objective stays
 * bounded below (by L0 - B'). The reported loss is always the law's, without the charge.
 */
import { tf } from './backend.js';

export interface LawSetup {
  params: readonly number[];
  totalSteps: number;
  peakLr: number;
  warmupSteps: number;
  /** The fixed leading lrs (a run so far); default the warmup of `warmupSteps` (prefixLrs). */
  fixedLrs?: Float64Array;
  /** Add B x (sum of the lr rises) to the loss (see the file comment); for non-monotone searches. */
  chargeRises?: boolean;
}

/**
 * The charge for lr rises after the warmup (see the file comment): B times the sum of the increases
 * lrs[s] - lrs[s-1] for s >= `from`. Float64, for comparing candidates the way the search does.
 */
export function riseCharge(lrs: Float64Array, from: number, B: number): number {
  let sum = 0;
  for (let s = Math.max(1, from); s < lrs.length; s++) {
    const d = lrs[s]! - lrs[s - 1]!;
    if (d > 0) sum += d;
  }
  return B * sum;
}

/** The fixed prefix of every schedule: the grammar's linear warmup (or one step at peak without warmup). */
export function prefixLrs(peakLr: number, warmupSteps: number): Float64Array {
  if (warmupSteps <= 1) return Float64Array.of(peakLr);
  const out = new Float64Array(warmupSteps);
  for (let s = 0; s < warmupSteps; s++) out[s] = (peakLr * s) / (warmupSteps - 1);
  return out;
}

const Y_FLOOR = 1e-12;

/** Constants of the objective, independent of the block grid. */
export class FinalLossObjective {
  readonly prefix: Float64Array;
  readonly postSteps: number;
  private readonly L0: number;
  private readonly A1: number;
  private readonly alpha: number;
  private readonly B1: number;
  private readonly C1: number;
  private readonly beta: number;
  private readonly gamma: number;
  private readonly prefixSum: number;
  private readonly lastPrefixY: number;
  private readonly chargeRises: boolean;
  /** Sum of the prefix's lr changes to lr 0 (each keeps its whole drop). */
  private zeroLrDrop = 0;
  private readonly warm?: { dy: tf.Tensor1D; rate: tf.Tensor1D; gap: tf.Tensor1D };

  /**
   * `groupRatio` > 1 merges the prefix (warmup) terms into groups whose gaps and lrs each vary by at
   * most that ratio (one term per group at the delta-weighted means): about 60 terms instead of
   * thousands for ratio 1.2, with a loss error below 1e-5 (1e-7 once the post-warmup sum is in the
   * hundreds of peak-lr steps). 1 keeps every term (exact).
   */
  constructor(setup: LawSetup, groupRatio = 1) {
    const [L0, A, alpha, B, C, beta, gamma] = setup.params as [number, number, number, number, number, number, number];
    const peak = setup.peakLr;
    this.prefix = setup.fixedLrs ?? prefixLrs(peak, setup.warmupSteps);
    this.postSteps = setup.totalSteps - this.prefix.length;
    this.L0 = L0;
    this.A1 = A * peak ** -alpha;
    this.alpha = alpha;
    this.B1 = B * peak;
    this.C1 = C * peak ** (1 - gamma);
    this.beta = beta;
    this.gamma = gamma;
    this.chargeRises = setup.chargeRises ?? false;
    const y = Array.from(this.prefix, (lr) => lr / peak);
    let sum = 0;
    for (const v of y) sum += v;
    this.prefixSum = sum;
    this.lastPrefixY = y[y.length - 1]!;
    // Prefix terms k = 1 .. P-1: dy_k, rate C' y_k^-gamma, and G_k = sum_{i=k..P-1} y_i.
    const dy: number[] = [];
    const rate: number[] = [];
    const gap: number[] = [];
    let suffix = 0;
    const suffixAt = new Float64Array(y.length + 1);
    for (let i = y.length - 1; i >= 0; i--) {
      suffix += y[i]!;
      suffixAt[i] = suffix;
    }
    // Walk the terms from the last (smallest gap) back; a group closes when its gap or lr spread
    // would exceed the ratio.
    let groupD = 0;
    let groupDG = 0;
    let groupDY = 0;
    let groupG = 0;
    let groupY = 0;
    const flush = () => {
      if (groupD === 0) return;
      dy.push(groupD);
      gap.push(groupDG / groupD);
      rate.push(this.C1 * (groupDY / groupD) ** -gamma);
      groupD = groupDG = groupDY = 0;
    };
    for (let k = y.length - 1; k >= 1; k--) {
      const d = y[k]! - y[k - 1]!;
      if (d === 0) continue;
      // A step to lr 0 inside a prefix (a run so far) keeps its whole drop once later steps add to the
      // lr sum (the law's limit, src/laws/mpl/law.ts): a constant term.
      if (y[k]! <= 0) {
        this.zeroLrDrop += d;
        continue;
      }
      const g = suffixAt[k]!;
      // Groups keep one sign of lr change (a run so far may rise and fall): a mixed group's weights could cancel.
      const signChange = groupD !== 0 && Math.sign(d) !== Math.sign(groupD);
      if (groupD !== 0 && (groupRatio <= 1 || signChange || g > groupG * groupRatio || y[k]! < groupY / groupRatio)) flush();
      if (groupD === 0) {
        groupG = g;
        groupY = y[k]!;
      }
      groupD += d;
      groupDG += d * g;
      groupDY += d * y[k]!;
    }
    flush();
    if (dy.length > 0) this.warm = { dy: tf.tensor1d(dy), rate: tf.tensor1d(rate), gap: tf.tensor1d(gap) };
  }

  /**
   * Final-step loss of each row of `y` ([R, N] block lrs in peak units) for block sizes `sizes`
   * (a [N] tensor of step counts summing to `postSteps`). Returns [R].
   */
  loss(y: tf.Tensor2D, sizes: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const rows = y.shape[0];
      const weighted = tf.mul(y, sizes);
      const gaps = tf.cumsum(weighted, 1, false, true) as tf.Tensor2D; // sum_{i>=j} m_i y_i
      const post = gaps.slice([0, 0], [rows, 1]); // [R, 1] = Ypost
      const prev = tf.concat([tf.fill([rows, 1], this.lastPrefixY), y.slice([0, 0], [rows, y.shape[1] - 1])], 1);
      const dy = tf.sub(y, prev);
      const rate = tf.mul(tf.pow(tf.maximum(y, Y_FLOOR), -this.gamma), this.C1);
      const keep = tf.neg(tf.expm1(tf.mul(tf.log1p(tf.mul(rate, gaps)), -this.beta)));
      let drop = tf.sum(tf.mul(dy, keep), 1);
      if (this.chargeRises) drop = tf.add(drop, tf.sum(tf.relu(dy), 1));
      if (this.warm) {
        const u = tf.mul(tf.add(this.warm.gap, post), this.warm.rate); // [R, K]
        const wkeep = tf.neg(tf.expm1(tf.mul(tf.log1p(u), -this.beta)));
        drop = tf.add(drop, tf.sum(tf.mul(wkeep, this.warm.dy), 1));
      }
      if (this.zeroLrDrop !== 0) drop = tf.add(drop, this.zeroLrDrop);
      const total = tf.add(post.reshape([rows]), this.prefixSum);
      const power = tf.mul(tf.pow(total, -this.alpha), this.A1);
      return tf.add(tf.add(power, tf.mul(drop, this.B1)), this.L0) as tf.Tensor1D;
    });
  }

  dispose(): void {
    if (this.warm) tf.dispose([this.warm.dy, this.warm.rate, this.warm.gap]);
  }
}
