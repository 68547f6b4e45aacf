/**
 * The multi-power law (Luo et al. 2025), with the reference implementation's conventions:
 *
 *   S(s)    = sum_{i=0..s} lr[i]                                   (inclusive)
 *   pred(s) = L0 + A * S(s)^(-alpha)
 *             + B * sum_{k=1..s} (lr[k] - lr[k-1]) * (1 - (1 + C * lr[k]^(-gamma) * (S(s) - S(k-1)))^(-beta))
 *
 * Params `[L0, A, alpha, B, C, beta, gamma]`. Terms with lr[k] = lr[k-1] vanish and are skipped.
 * A step with lr[k] = 0 has C * lr^(-gamma) = infinity: its term is the full (lr[k] - lr[k-1]) once
 * S(s) > S(k-1), and 0 while S(s) = S(k-1) (the 0 * infinity of the formula taken as 0).
 * S(s) = 0 (step 0 of a warmup from 0) predicts +Infinity, as the reference does.
 *
 * Fast evaluation (`predictMpl`, the law's `predict`): the loss-drop sum is a sum of power kernels.
 * With c_k = C * lr[k]^(-gamma) and z_k = S(k-1) - 1/c_k,
 *
 *   (1 + c_k (X - S(k-1)))^(-beta) = c_k^(-beta) * (X - z_k)^(-beta),   X = S(s) > z_k,
 *
 * so the terms of a block of steps whose z_k lie within radius R of a center z0 sum, for X with
 * R <= theta * (X - z0), to the convergent far-field (multipole) series
 *
 *   sum_k w_k (X - z_k)^(-b) = (X - z0)^(-b) * sum_{n>=0} (b)_n / n! * M_n / (X - z0)^n,
 *   M_n = sum_k w_k (z_k - z0)^n,
 *
 * whose truncation after p terms errs by at most (1+theta)^b * sum_{n>=p} (b)_n/n! theta^n relative to
 * each term (p is chosen from that bound for the requested tolerance). Moments are built once per
 * evaluation over a binary tree of the nonzero terms (leaves directly, parents by shifting their
 * children's moments), so a prediction costs O(terms * p) + O(points * (log terms * p + near terms))
 * instead of O(points * steps). Each point sums the blocks before it that are far enough by their
 * series, and the nearby terms exactly. The Jacobian uses the same moments (its kernels are the same
 * powers, weighted by -ln lr[k] and with exponent beta+1; d/dbeta differentiates the series).
 * `predictMplDirect` is the plain O(points * steps) sum, kept as the reference for tests.
 */
import type { Law, ParamSpec } from './law.js';

export interface MplOptions {
  /** Use the plain direct sum instead of the fast evaluator (slow; for checks). */
  direct?: boolean;
  /** Relative truncation bound of each far-field series (default 1e-9). */
  tolerance?: number;
  /** Far-field acceptance ratio R / (X - z0) (default 0.2). */
  theta?: number;
}

export const MPL_PARAMS: readonly ParamSpec[] = [
  { name: 'L0', init: 3, min: 0, max: 20, domain: 'nonnegative', description: 'irreducible loss', scalesWithLoss: true },
  { name: 'A', init: 0.5, min: 0, max: 50, domain: 'nonnegative', description: 'scale of the power law in the lr sum', scalesWithLr: true, scalesWithLoss: true },
  { name: 'alpha', init: 0.5, min: 0.01, max: 3, domain: 'positive', description: 'exponent of the power law in the lr sum' },
  { name: 'B', init: 300, min: 0, max: 1e5, domain: 'nonnegative', description: 'scale of the loss drop from lr decay', scalesWithLr: true, scalesWithLoss: true },
  { name: 'C', init: 2, min: 1e-3, max: 1e3, domain: 'positive', description: 'rate of the loss drop after an lr change', scalesWithLr: true },
  { name: 'beta', init: 0.5, min: 0.01, max: 5, domain: 'positive', description: 'exponent of the loss drop' },
  { name: 'gamma', init: 0.5, min: 0, max: 1.5, domain: 'nonnegative', description: 'lr dependence of the loss drop rate' },
];

const P = 7;
/** L0, A, B: the prediction is linear in them, so they carry the loss's unit. */
const LOSS_LINEAR = new Set([0, 1, 3]);

function checkParams(params: ArrayLike<number>): void {
  if (params.length !== P) throw new RangeError(`mpl takes ${P} params [L0, A, alpha, B, C, beta, gamma], got ${params.length}`);
}

function checkStep(step: number, total: number): void {
  if (!Number.isInteger(step) || step < 0 || step >= total) {
    throw new RangeError(`step ${step} is outside the schedule (0..${total - 1})`);
  }
}

/** Inclusive prefix sums S(s) = sum_{i<=s} lr[i]. */
export function cumulativeLr(lrs: Float64Array): Float64Array {
  const cum = new Float64Array(lrs.length);
  let total = 0;
  for (let i = 0; i < lrs.length; i++) {
    total += lrs[i]!;
    cum[i] = total;
  }
  return cum;
}

// ---------------------------------------------------------------------------------------------
// Direct sum (reference)
// ---------------------------------------------------------------------------------------------

/**
 * The plain O(points * steps) evaluation, term by term as the formula reads. With `jacobian`,
 * also the analytic derivatives (row-major, 7 per point).
 */
export function predictMplDirect(
  lrs: Float64Array,
  steps: ArrayLike<number>,
  params: ArrayLike<number>,
  jacobian?: Float64Array,
): Float64Array {
  checkParams(params);
  const [L0, A, alpha, B, C, beta, gamma] = Array.from(params) as [number, number, number, number, number, number, number];
  const cum = cumulativeLr(lrs);
  const pred = new Float64Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    checkStep(s, lrs.length);
    const X = cum[s]!;
    let drop = 0;
    let dC = 0;
    let dBeta = 0;
    let dGamma = 0;
    for (let k = 1; k <= s; k++) {
      const delta = lrs[k]! - lrs[k - 1]!;
      if (delta === 0) continue;
      const lr = lrs[k]!;
      const gap = X - cum[k - 1]!;
      if (lr === 0) {
        if (gap > 0) drop += delta;
        continue;
      }
      const u = C * lr ** -gamma * gap;
      const v = (1 + u) ** -beta;
      drop += delta * (1 - v);
      const r = u / (1 + u);
      dC += (delta * beta * v * r) / C;
      dBeta += delta * Math.log1p(u) * v;
      dGamma += -delta * beta * v * r * Math.log(lr);
    }
    const power = X ** -alpha;
    pred[i] = L0 + A * power + B * drop;
    if (jacobian) {
      const row = i * P;
      jacobian[row] = 1;
      jacobian[row + 1] = power;
      jacobian[row + 2] = -A * Math.log(X) * power;
      jacobian[row + 3] = drop;
      jacobian[row + 4] = B * dC;
      jacobian[row + 5] = B * dBeta;
      jacobian[row + 6] = B * dGamma;
    }
  }
  return pred;
}

// ---------------------------------------------------------------------------------------------
// Parameter-independent preparation of a schedule
// ---------------------------------------------------------------------------------------------

const LEAF_SIZE = 64;

/** A schedule prepared for fast evaluation: its nonzero terms and a binary tree over them. */
export interface MplSchedule {
  /** A private copy of the learning rates (to validate cache hits). */
  readonly lrs: Float64Array;
  readonly cum: Float64Array;
  /** Nonzero terms with lr[k] > 0, in step order: k, lr[k]-lr[k-1], -ln lr[k], S(k-1). */
  readonly termStep: Int32Array;
  readonly termDelta: Float64Array;
  readonly termNegLogLr: Float64Array;
  readonly termPrevCum: Float64Array;
  /** deltaPrefix[j] = sum of termDelta[0..j-1]. */
  readonly deltaPrefix: Float64Array;
  /** Nonzero terms with lr[k] = 0 (evaluated directly; their derivatives vanish). */
  readonly zeroStep: Int32Array;
  readonly zeroDelta: Float64Array;
  readonly zeroPrevCum: Float64Array;
  /** Tree nodes in pre-order (children after their parent): term ranges [lo, hi) and children (-1 at leaves). */
  readonly nodeLo: Int32Array;
  readonly nodeHi: Int32Array;
  readonly nodeLeft: Int32Array;
  readonly nodeRight: Int32Array;
}

/** Collect the nonzero terms of `lrs` and build the tree over them. */
export function prepareMplSchedule(lrs: Float64Array): MplSchedule {
  const copy = Float64Array.from(lrs);
  const cum = cumulativeLr(copy);
  let count = 0;
  let zeroCount = 0;
  for (let k = 1; k < copy.length; k++) {
    if (copy[k] !== copy[k - 1]) {
      if (copy[k]! > 0) count++;
      else zeroCount++;
    }
  }
  const termStep = new Int32Array(count);
  const termDelta = new Float64Array(count);
  const termNegLogLr = new Float64Array(count);
  const termPrevCum = new Float64Array(count);
  const deltaPrefix = new Float64Array(count + 1);
  const zeroStep = new Int32Array(zeroCount);
  const zeroDelta = new Float64Array(zeroCount);
  const zeroPrevCum = new Float64Array(zeroCount);
  let t = 0;
  let zt = 0;
  for (let k = 1; k < copy.length; k++) {
    const lr = copy[k]!;
    const delta = lr - copy[k - 1]!;
    if (delta === 0) continue;
    if (lr > 0) {
      termStep[t] = k;
      termDelta[t] = delta;
      termNegLogLr[t] = -Math.log(lr);
      termPrevCum[t] = cum[k - 1]!;
      deltaPrefix[t + 1] = deltaPrefix[t]! + delta;
      t++;
    } else {
      zeroStep[zt] = k;
      zeroDelta[zt] = delta;
      zeroPrevCum[zt] = cum[k - 1]!;
      zt++;
    }
  }
  const lo: number[] = [];
  const hi: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const build = (a: number, b: number): number => {
    const id = lo.length;
    lo.push(a);
    hi.push(b);
    left.push(-1);
    right.push(-1);
    if (b - a > LEAF_SIZE) {
      const mid = (a + b) >>> 1;
      left[id] = build(a, mid);
      right[id] = build(mid, b);
    }
    return id;
  };
  if (count > 0) build(0, count);
  return {
    lrs: copy,
    cum,
    termStep,
    termDelta,
    termNegLogLr,
    termPrevCum,
    deltaPrefix,
    zeroStep,
    zeroDelta,
    zeroPrevCum,
    nodeLo: Int32Array.from(lo),
    nodeHi: Int32Array.from(hi),
    nodeLeft: Int32Array.from(left),
    nodeRight: Int32Array.from(right),
  };
}

const scheduleCache = new WeakMap<Float64Array, MplSchedule>();

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The prepared schedule of `lrs`, cached per array (and revalidated, so mutating `lrs` is safe). */
export function mplSchedule(lrs: Float64Array): MplSchedule {
  const cached = scheduleCache.get(lrs);
  if (cached && sameValues(cached.lrs, lrs)) return cached;
  const prepared = prepareMplSchedule(lrs);
  scheduleCache.set(lrs, prepared);
  return prepared;
}

// ---------------------------------------------------------------------------------------------
// Series coefficients and the truncation bound
// ---------------------------------------------------------------------------------------------

const MAX_ORDER = 80;

const BINOMIAL: Float64Array[] = (() => {
  const rows: Float64Array[] = [];
  for (let n = 0; n <= MAX_ORDER; n++) {
    const row = new Float64Array(n + 1);
    row[0] = 1;
    row[n] = 1;
    for (let j = 1; j < n; j++) row[j] = rows[n - 1]![j - 1]! + rows[n - 1]![j]!;
    rows.push(row);
  }
  return rows;
})();

/** (b)_n / n! for n < count (coefficients of (1 - t)^(-b)), into `out`. */
function fillRising(out: Float64Array, b: number, count: number): void {
  let c = 1;
  for (let n = 0; n < count; n++) {
    out[n] = c;
    c *= (b + n) / (n + 1);
  }
}

/**
 * Smallest order p whose truncated series sum_{n<p} (b)_n/n! t^n of (1-t)^(-b), |t| <= theta, errs by
 * at most `tolerance` relative to the term, for b = beta and b = beta + 1 (the Jacobian's kernel),
 * including the log factor of the beta derivative.
 */
export function seriesOrder(beta: number, theta: number, tolerance: number): number {
  const b = beta + 1;
  let c = 1; // (b)_n / n!
  let h = 0; // H_n = sum_{j<n} 1/(beta+j)
  let thetaPow = 1;
  for (let p = 1; p < MAX_ORDER; p++) {
    c *= (b + p - 1) / p;
    h += 1 / (beta + p - 1);
    thetaPow *= theta;
    const ratio = theta * Math.max(1, (b + p) / (p + 1));
    if (ratio >= 1) continue;
    const tail = (c * thetaPow * (1 + h)) / (1 - ratio);
    if (tail * (1 + theta) ** b <= tolerance) return p;
  }
  return MAX_ORDER;
}

// ---------------------------------------------------------------------------------------------
// Fast evaluation
// ---------------------------------------------------------------------------------------------

const DEFAULT_TOLERANCE = 1e-9;
const DEFAULT_THETA = 0.2;

/** BINOMIAL flattened: row n starts at n (n + 1) / 2. */
const BINOMIAL_FLAT: Float64Array = (() => {
  const out = new Float64Array(((MAX_ORDER + 1) * (MAX_ORDER + 2)) / 2);
  for (let n = 0; n <= MAX_ORDER; n++) out.set(BINOMIAL[n]!, (n * (n + 1)) / 2);
  return out;
})();

/**
 * Parameter-independent scratch of a prepared schedule, reused across evaluations (single-threaded:
 * an evaluation never yields, so one workspace per schedule suffices).
 */
interface MplWorkspace {
  readonly rate: Float64Array;
  readonly center: Float64Array;
  readonly w0: Float64Array;
  readonly w0l: Float64Array;
  readonly w1: Float64Array;
  readonly w1l: Float64Array;
  readonly nodeMid: Float64Array;
  readonly nodeRadius: Float64Array;
  readonly nodeMin: Float64Array;
  readonly nodeMax: Float64Array;
  /** Leaf scratch: offsets to the leaf center and their running powers. */
  readonly leafD: Float64Array;
  readonly leafPow: Float64Array;
  readonly shiftPow: Float64Array;
  readonly c0: Float64Array;
  readonly c1: Float64Array;
  readonly harmonic: Float64Array;
  readonly stack: Int32Array;
  moments: Float64Array;
}

const workspaceCache = new WeakMap<MplSchedule, MplWorkspace>();

function workspaceOf(schedule: MplSchedule): MplWorkspace {
  let ws = workspaceCache.get(schedule);
  if (ws) return ws;
  const terms = schedule.termStep.length;
  const nodes = schedule.nodeLo.length;
  let leafMax = 0;
  for (let node = 0; node < nodes; node++) leafMax = Math.max(leafMax, schedule.nodeHi[node]! - schedule.nodeLo[node]!);
  ws = {
    rate: new Float64Array(terms),
    center: new Float64Array(terms),
    w0: new Float64Array(terms),
    w0l: new Float64Array(terms),
    w1: new Float64Array(terms),
    w1l: new Float64Array(terms),
    nodeMid: new Float64Array(nodes),
    nodeRadius: new Float64Array(nodes),
    nodeMin: new Float64Array(nodes),
    nodeMax: new Float64Array(nodes),
    leafD: new Float64Array(Math.min(leafMax, LEAF_SIZE)),
    leafPow: new Float64Array(Math.min(leafMax, LEAF_SIZE)),
    shiftPow: new Float64Array(MAX_ORDER),
    c0: new Float64Array(MAX_ORDER),
    c1: new Float64Array(MAX_ORDER),
    harmonic: new Float64Array(MAX_ORDER),
    stack: new Int32Array(128),
    moments: new Float64Array(0),
  };
  workspaceCache.set(schedule, ws);
  return ws;
}

/**
 * Leaf moments M_n = sum_t w_t (z_t - mid)^n of the four weight arrays into moments[base..], summed
 * term by term in order, two orders per pass (the powers carried per term in leafPow), so the running
 * sums per order are independent chains.
 */
function leafMoments4(
  moments: Float64Array,
  base: number,
  order: number,
  lo: number,
  len: number,
  w0: Float64Array,
  w0l: Float64Array,
  w1: Float64Array,
  w1l: Float64Array,
  leafD: Float64Array,
  leafPow: Float64Array,
): void {
  let n = 0;
    for (; n + 1 < order; n += 2) {
      let s0 = 0;
      let s0l = 0;
      let s1 = 0;
      let s1l = 0;
      let r0 = 0;
      let r0l = 0;
      let r1 = 0;
      let r1l = 0;
      for (let j = 0, t = lo; j < len; j++, t++) {
        const pw = leafPow[j]!;
        const d = leafD[j]!;
        const pwNext = pw * d;
        const a0 = w0[t]!;
        const a0l = w0l[t]!;
        const a1 = w1[t]!;
        const a1l = w1l[t]!;
        s0 += a0 * pw;
        s0l += a0l * pw;
        s1 += a1 * pw;
        s1l += a1l * pw;
        r0 += a0 * pwNext;
        r0l += a0l * pwNext;
        r1 += a1 * pwNext;
        r1l += a1l * pwNext;
        leafPow[j] = pwNext * d;
      }
      moments[base + n] = s0;
      moments[base + order + n] = s0l;
      moments[base + 2 * order + n] = s1;
      moments[base + 3 * order + n] = s1l;
      moments[base + n + 1] = r0;
      moments[base + order + n + 1] = r0l;
      moments[base + 2 * order + n + 1] = r1;
      moments[base + 3 * order + n + 1] = r1l;
    }
    for (; n < order; n++) {
      let s0 = 0;
      let s0l = 0;
      let s1 = 0;
      let s1l = 0;
      for (let j = 0, t = lo; j < len; j++, t++) {
        const pw = leafPow[j]!;
        s0 += w0[t]! * pw;
        s0l += w0l[t]! * pw;
        s1 += w1[t]! * pw;
        s1l += w1l[t]! * pw;
        leafPow[j] = pw * leafD[j]!;
      }
      moments[base + n] = s0;
      moments[base + order + n] = s0l;
      moments[base + 2 * order + n] = s1;
      moments[base + 3 * order + n] = s1l;
    }
}

/** `leafMoments4` for the one weight array of a prediction. */
function leafMoments1(moments: Float64Array, base: number, order: number, lo: number, len: number, w0: Float64Array, leafD: Float64Array, leafPow: Float64Array): void {
  let n = 0;
    for (; n + 1 < order; n += 2) {
      let s0 = 0;
      let r0 = 0;
      for (let j = 0, t = lo; j < len; j++, t++) {
        const pw = leafPow[j]!;
        const d = leafD[j]!;
        const pwNext = pw * d;
        const a0 = w0[t]!;
        s0 += a0 * pw;
        r0 += a0 * pwNext;
        leafPow[j] = pwNext * d;
      }
      moments[base + n] = s0;
      moments[base + n + 1] = r0;
    }
    for (; n < order; n++) {
      let s0 = 0;
      for (let j = 0, t = lo; j < len; j++, t++) {
        const pw = leafPow[j]!;
        s0 += w0[t]! * pw;
        leafPow[j] = pw * leafD[j]!;
      }
      moments[base + n] = s0;
    }
}

/**
 * Fast prediction (and with `jacobian`, the row-major 7-column Jacobian) on a prepared schedule.
 * See the file comment for the method and its error bound.
 */
export function predictMplPrepared(
  schedule: MplSchedule,
  steps: ArrayLike<number>,
  params: ArrayLike<number>,
  jacobian?: Float64Array,
  options: MplOptions = {},
): Float64Array {
  const pred = new Float64Array(steps.length);
  evaluateMplPrepared(schedule, steps, params, pred, jacobian, options);
  return pred;
}

/** `predictMplPrepared` writing into `pred` (and `jacobian`), allocating nothing per call. */
export function evaluateMplPrepared(
  schedule: MplSchedule,
  steps: ArrayLike<number>,
  params: ArrayLike<number>,
  pred: Float64Array,
  jacobian: Float64Array | undefined,
  options: MplOptions = {},
): void {
  checkParams(params);
  const L0 = params[0]!;
  const A = params[1]!;
  const alpha = params[2]!;
  const B = params[3]!;
  const C = params[4]!;
  const beta = params[5]!;
  const gamma = params[6]!;
  const theta = options.theta ?? DEFAULT_THETA;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const withJac = jacobian !== undefined;
  const { cum, termStep, termDelta, termNegLogLr, termPrevCum, deltaPrefix, nodeLo, nodeHi, nodeLeft, nodeRight } = schedule;
  const { zeroStep, zeroDelta, zeroPrevCum } = schedule;
  const total = cum.length;
  const termCount = termStep.length;
  const nodeCount = nodeLo.length;
  const seriesLength = seriesOrder(beta, theta, tolerance);
  const lnC = Math.log(C);
  const ws = workspaceOf(schedule);
  const { c0, c1, harmonic } = ws;
  fillRising(c0, beta, seriesLength);
  fillRising(c1, beta + 1, seriesLength);
  harmonic[0] = 0; // H_n = sum_{j<n} 1/(beta+j)
  for (let n = 1; n < seriesLength; n++) harmonic[n] = harmonic[n - 1]! + 1 / (beta + n - 1);
  // The far-field loops below stop at the first n whose bound (ratio^(n+1) times the coefficient
  // factor) is under the tolerance; ratio <= theta, so moments past the stop for ratio = theta are
  // never read: build only those (theta widened a little to cover the rounding of the ratio).
  let order = seriesLength;
  {
    const thetaUp = theta * (1 + 1e-9);
    let bound = 1;
    for (let n = 0; n < seriesLength; n++) {
      bound *= thetaUp;
      if (withJac ? bound * c1[n]! * (1 + harmonic[n]!) < tolerance : bound < tolerance) {
        order = n + 1;
        break;
      }
    }
  }
  const { rate, center, w0, w0l, w1, w1l, nodeMid, nodeRadius, nodeMin, nodeMax, leafD, leafPow, shiftPow, stack } = ws;

  // Per-term kernel data: c_k, z_k, weights w0 = delta c^-beta, w1 = w0 / c (and both times -ln lr).
  if (withJac) {
    for (let t = 0; t < termCount; t++) {
      const ell = termNegLogLr[t]!;
      const logRate = lnC + gamma * ell;
      const c = Math.exp(logRate);
      rate[t] = c;
      center[t] = termPrevCum[t]! - 1 / c;
      const w = termDelta[t]! * Math.exp(-beta * logRate);
      const wc = w / c;
      w0[t] = w;
      w0l[t] = w * ell;
      w1[t] = wc;
      w1l[t] = wc * ell;
    }
  } else {
    for (let t = 0; t < termCount; t++) {
      const logRate = lnC + gamma * termNegLogLr[t]!;
      const c = Math.exp(logRate);
      rate[t] = c;
      center[t] = termPrevCum[t]! - 1 / c;
      w0[t] = termDelta[t]! * Math.exp(-beta * logRate);
    }
  }

  // Moments over the tree, children before parents (reverse pre-order).
  const arrays = withJac ? 4 : 1;
  const stride = order * arrays; // node block: [M0 | M0l | M1 | M1l], each `order` long
  if (ws.moments.length < nodeCount * stride) ws.moments = new Float64Array(nodeCount * stride);
  const moments = ws.moments;
  for (let node = nodeCount - 1; node >= 0; node--) {
    const base = node * stride;
    const left = nodeLeft[node]!;
    if (left < 0) {
      const lo = nodeLo[node]!;
      const hi = nodeHi[node]!;
      let zMin = Infinity;
      let zMax = -Infinity;
      for (let t = lo; t < hi; t++) {
        const z = center[t]!;
        if (z < zMin) zMin = z;
        if (z > zMax) zMax = z;
      }
      const mid = 0.5 * (zMin + zMax);
      nodeMin[node] = zMin;
      nodeMax[node] = zMax;
      nodeMid[node] = mid;
      nodeRadius[node] = 0.5 * (zMax - zMin);
      const len = hi - lo;
      for (let j = 0; j < len; j++) {
        leafD[j] = center[lo + j]! - mid;
        leafPow[j] = 1;
      }
      if (withJac) leafMoments4(moments, base, order, lo, len, w0, w0l, w1, w1l, leafD, leafPow);
      else leafMoments1(moments, base, order, lo, len, w0, leafD, leafPow);
    } else {
      const right = nodeRight[node]!;
      const zMin = Math.min(nodeMin[left]!, nodeMin[right]!);
      const zMax = Math.max(nodeMax[left]!, nodeMax[right]!);
      const mid = 0.5 * (zMin + zMax);
      nodeMin[node] = zMin;
      nodeMax[node] = zMax;
      nodeMid[node] = mid;
      nodeRadius[node] = 0.5 * (zMax - zMin);
      for (let side = 0; side < 2; side++) {
        const child = side === 0 ? left : right;
        // (z - mid)^n = sum_j C(n,j) (z - childMid)^j (childMid - mid)^(n-j)
        const shift = nodeMid[child]! - mid;
        let pw = 1;
        for (let n = 0; n < order; n++) {
          shiftPow[n] = pw;
          pw *= shift;
        }
        const src = child * stride;
        if (withJac) {
          // The four arrays' sums side by side (independent chains).
          for (let n = 0; n < order; n++) {
            const row = (n * (n + 1)) >> 1;
            let s0 = 0;
            let s0l = 0;
            let s1 = 0;
            let s1l = 0;
            for (let j = 0; j <= n; j++) {
              const binom = BINOMIAL_FLAT[row + j]!;
              const sp = shiftPow[n - j]!;
              s0 += binom * moments[src + j]! * sp;
              s0l += binom * moments[src + order + j]! * sp;
              s1 += binom * moments[src + 2 * order + j]! * sp;
              s1l += binom * moments[src + 3 * order + j]! * sp;
            }
            if (side === 0) {
              moments[base + n] = s0;
              moments[base + order + n] = s0l;
              moments[base + 2 * order + n] = s1;
              moments[base + 3 * order + n] = s1l;
            } else {
              moments[base + n] = moments[base + n]! + s0;
              moments[base + order + n] = moments[base + order + n]! + s0l;
              moments[base + 2 * order + n] = moments[base + 2 * order + n]! + s1;
              moments[base + 3 * order + n] = moments[base + 3 * order + n]! + s1l;
            }
          }
        } else {
          for (let n = 0; n < order; n++) {
            const row = (n * (n + 1)) >> 1;
            let s0 = 0;
            for (let j = 0; j <= n; j++) s0 += BINOMIAL_FLAT[row + j]! * moments[src + j]! * shiftPow[n - j]!;
            moments[base + n] = side === 0 ? s0 : moments[base + n]! + s0;
          }
        }
      }
    }
  }


  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    checkStep(s, total);
    const X = cum[s]!;
    // Number of terms with k <= s.
    let lo = 0;
    let hi = termCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (termStep[mid]! <= s) lo = mid + 1;
      else hi = mid;
    }
    const limit = lo;

    let drop = 0; // sum delta (1 - (1+u)^-beta)
    let g = 0; // sum delta (1+u)^-beta u/(1+u)
    let gl = 0; // same weighted by -ln lr
    let dBeta = 0; // sum delta ln(1+u) (1+u)^-beta
    let top = 0;
    if (limit > 0) stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top]!;
      const nLo = nodeLo[node]!;
      if (nLo >= limit) continue;
      const nHi = nodeHi[node]!;
      const dist = X - nodeMid[node]!;
      const radius = nodeRadius[node]!;
      if (nHi <= limit && radius <= theta * dist) {
        // Far field: the node's series.
        const q = 1 / dist;
        const ratio = radius * q;
        const lnD = Math.log(dist);
        const base0 = Math.exp(-beta * lnD);
        const base = node * stride;
        let s0 = 0;
        let qn = 1;
        if (!withJac) {
          let bound = 1;
          for (let n = 0; n < order; n++) {
            s0 += c0[n]! * moments[base + n]! * qn;
            qn *= q;
            bound *= ratio;
            if (bound < tolerance) break;
          }
          drop += deltaPrefix[nHi]! - deltaPrefix[nLo]! - base0 * s0;
          continue;
        }
        let s0l = 0;
        let s0h = 0;
        let s1 = 0;
        let s1l = 0;
        let bound = 1;
        for (let n = 0; n < order; n++) {
          const m0 = c0[n]! * moments[base + n]! * qn;
          s0 += m0;
          s0h += harmonic[n]! * m0;
          s0l += c0[n]! * moments[base + order + n]! * qn;
          s1 += c1[n]! * moments[base + 2 * order + n]! * qn;
          s1l += c1[n]! * moments[base + 3 * order + n]! * qn;
          qn *= q;
          bound *= ratio;
          if (bound * c1[n]! * (1 + harmonic[n]!) < tolerance) break;
        }
        const t0 = base0 * s0;
        const t0l = base0 * s0l;
        const t1 = base0 * q * s1;
        const t1l = base0 * q * s1l;
        drop += deltaPrefix[nHi]! - deltaPrefix[nLo]! - t0;
        g += t0 - t1;
        gl += t0l - t1l;
        dBeta += lnC * t0 + gamma * t0l + base0 * (lnD * s0 - s0h);
        continue;
      }
      const left = nodeLeft[node]!;
      if (left >= 0) {
        stack[top++] = nodeRight[node]!;
        stack[top++] = left;
        continue;
      }
      // Near field: the leaf's terms exactly.
      const end = nHi < limit ? nHi : limit;
      if (withJac) {
        for (let t = nLo; t < end; t++) {
          const u = rate[t]! * (X - termPrevCum[t]!);
          const lp = Math.log1p(u);
          const delta = termDelta[t]!;
          const v = Math.exp(-beta * lp);
          drop += delta * (1 - v);
          const r = (delta * v * u) / (1 + u);
          g += r;
          gl += r * termNegLogLr[t]!;
          dBeta += delta * lp * v;
        }
      } else {
        for (let t = nLo; t < end; t++) {
          const u = rate[t]! * (X - termPrevCum[t]!);
          drop -= termDelta[t]! * Math.expm1(-beta * Math.log1p(u));
        }
      }
    }
    for (let z = 0; z < zeroStep.length && zeroStep[z]! <= s; z++) {
      if (X > zeroPrevCum[z]!) drop += zeroDelta[z]!;
    }

    const power = Math.exp(-alpha * Math.log(X));
    pred[i] = L0 + A * power + B * drop;
    if (withJac) {
      const row = i * P;
      jacobian[row] = 1;
      jacobian[row + 1] = power;
      jacobian[row + 2] = -A * Math.log(X) * power;
      jacobian[row + 3] = drop;
      jacobian[row + 4] = (B * beta * g) / C;
      jacobian[row + 5] = B * dBeta;
      jacobian[row + 6] = B * beta * gl;
    }
  }
}

/** Predicted loss at `steps` of the schedule `lrs` (fast evaluator, relative error well below 1e-9). */
export function predictMpl(lrs: Float64Array, steps: ArrayLike<number>, params: ArrayLike<number>, options?: MplOptions): Float64Array {
  if (options?.direct) return predictMplDirect(lrs, steps, params);
  return predictMplPrepared(mplSchedule(lrs), steps, params, undefined, options);
}

/** Predictions and the analytic Jacobian (row-major, columns L0, A, alpha, B, C, beta, gamma). */
export function predictMplWithJacobian(
  lrs: Float64Array,
  steps: ArrayLike<number>,
  params: ArrayLike<number>,
  options?: MplOptions,
): { pred: Float64Array; jacobian: Float64Array } {
  const jacobian = new Float64Array(steps.length * P);
  const pred = options?.direct
    ? predictMplDirect(lrs, steps, params, jacobian)
    : predictMplPrepared(mplSchedule(lrs), steps, params, jacobian, options);
  return { pred, jacobian };
}

export const mplLaw: Law<MplOptions> = {
  id: 'mpl',
  title: 'Multi-power law (Luo et al. 2025)',
  params: MPL_PARAMS,
  predict: predictMpl,
  predictWithJacobian: predictMplWithJacobian,
  // With lr' = k lr: S' = k S, so A' S'^-alpha = A' k^-alpha S^-alpha; the drop term's steps scale by
  // k (B = B' k) and its rate C' lr'^-gamma S' = C' k^(1-gamma) lr^-gamma S.
  rescaleLoss: (params, f) => Array.from(params, (v, j) => (LOSS_LINEAR.has(j) ? v * f : v)),
  rescaleLr: (params, k) => {
    const [L0, A, alpha, B, C, beta, gamma] = Array.from(params) as [number, number, number, number, number, number, number];
    return [L0, A * k ** -alpha, alpha, B * k, C * k ** (1 - gamma), beta, gamma];
  },
};
