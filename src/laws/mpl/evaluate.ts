/**
 * Fast evaluation of the multi-power law (`predictMpl`, the law's `predict`; the formula and its
 * conventions are in ./law.ts): the loss-drop sum is a sum of power kernels.
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
import type { MplOptions } from './law.js';
import { checkParams, checkStep, P, predictMplDirect } from './direct.js';
import { LEAF_SIZE, mplSchedule, type MplSchedule } from './prepare.js';
import { BINOMIAL_FLAT, fillRising, MAX_ORDER, seriesOrder } from './series.js';

const DEFAULT_TOLERANCE = 1e-9;
const DEFAULT_THETA = 0.2;

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
