/**
 * Parameter-independent preparation of a schedule for the fast evaluator (./evaluate.ts): its nonzero
 * terms and a binary tree over them, cached per lrs array.
 */
import { cumulativeLr } from './direct.js';

/** Most terms in a leaf of the tree. */
export const LEAF_SIZE = 64;

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
