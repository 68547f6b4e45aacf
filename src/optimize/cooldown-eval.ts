/**
 * The multi-power law's final loss of many cooldown candidates after one fixed prefix, exactly
 * (the law's direct sum, src/laws/mpl/direct.ts, reordered) and without a full-length evaluation
 * per candidate.
 *
 * A candidate's run is the prefix (steps 0 .. P-1, level lr v at P-1), the level up to its start s,
 * then a cooldown tail c[0 .. l-1] (the wsd formula from s; the run ends at E = s + l). At its final
 * step E-1, with X = S(E-1) = prefixSum + v (s - P) + tailSum:
 *
 *   loss = L0 + A X^-alpha + B (prefixDrop(X) + tailDrop)
 *
 * where the constant stretch adds no term (its lr changes are 0), each tail term's gap
 * S(E-1) - S(k-1) is the tail's own suffix sum (independent of s and of the prefix), and each
 * prefix term's gap is X - S(k-1). So a tail (length, shape, final) costs its length once, and a
 * candidate costs one term per lr change of the prefix. `planWork` counts exactly that.
 */
import { expandSchedule } from '../schedule/expand.js';
import type { CooldownCandidate } from './cooldown-grid.js';

/** The prefix's lr changes: delta, lr, lr sum before the step, for every step k >= 1 where the lr changes. */
export interface PrefixTerms {
  delta: Float64Array;
  lr: Float64Array;
  before: Float64Array;
  /** Sum of every prefix lr. */
  sum: number;
  /** The prefix's last lr: the level the run continues at. */
  level: number;
  length: number;
}

export function prefixTerms(prefix: Float64Array): PrefixTerms {
  const delta: number[] = [];
  const lr: number[] = [];
  const before: number[] = [];
  let cum = prefix[0]!;
  for (let k = 1; k < prefix.length; k++) {
    const d = prefix[k]! - prefix[k - 1]!;
    if (d !== 0) {
      delta.push(d);
      lr.push(prefix[k]!);
      before.push(cum);
    }
    cum += prefix[k]!;
  }
  return { delta: Float64Array.from(delta), lr: Float64Array.from(lr), before: Float64Array.from(before), sum: cum, level: prefix[prefix.length - 1]!, length: prefix.length };
}

/** The cost of a plan in law terms: each distinct tail's length, plus one term per prefix lr change (and one) per candidate. */
export function planWork(candidates: readonly CooldownCandidate[], prefixChanges: number): number {
  const tails = new Map<string, number>();
  for (const c of candidates) tails.set(tailKey(c), c.length);
  let work = 0;
  for (const length of tails.values()) work += length;
  return work + candidates.length * (prefixChanges + 1);
}

function tailKey(c: CooldownCandidate): string {
  return `${c.length}/${c.shape}/${c.finalFraction}`;
}

/** One step's share of the loss drop: delta (1 - (1 + C lr^-gamma gap)^-beta), the law's limit at lr 0. */
function dropTerm(delta: number, lr: number, gap: number, C: number, beta: number, gamma: number): number {
  if (lr === 0) return gap > 0 ? delta : 0;
  return delta * -Math.expm1(-beta * Math.log1p(C * lr ** -gamma * gap));
}

/** A cooldown's final lr: `fraction` x level to 12 significant digits (as its spec writes it), never above the level. */
export function finalLrOf(level: number, fraction: number): number {
  return Math.min(level, Number((fraction * level).toPrecision(12)));
}

/** The per-step lrs of a cooldown tail decaying from `level` (the wsd formula with decay start 0, `length` steps). */
export function tailLrs(level: number, c: Pick<CooldownCandidate, 'length' | 'shape' | 'finalFraction'>): Float64Array {
  return expandSchedule({ family: 'wsd', peak: level, total: c.length, warmup: 0, decayStart: 0, final: finalLrOf(level, c.finalFraction), shape: c.shape });
}

interface Tail {
  sum: number;
  drop: number;
}

/** A tail's lr sum and its drop terms (the step from the level at its start included). */
function evaluateTail(level: number, c: CooldownCandidate, params: readonly number[]): Tail {
  const [, , , , C, beta, gamma] = params as [number, number, number, number, number, number, number];
  const lrs = tailLrs(level, c);
  let gap = 0;
  let drop = 0;
  for (let t = lrs.length - 1; t >= 0; t--) {
    gap += lrs[t]!;
    const delta = lrs[t]! - (t === 0 ? level : lrs[t - 1]!);
    if (delta !== 0) drop += dropTerm(delta, lrs[t]!, gap, C, beta, gamma);
  }
  return { sum: gap, drop };
}

/** The predicted final loss of each candidate after the prefix of `terms`, in the candidates' order. */
export function evaluateCooldowns(terms: PrefixTerms, candidates: readonly CooldownCandidate[], params: readonly number[]): Float64Array {
  const [L0, A, alpha, B, C, beta, gamma] = params as [number, number, number, number, number, number, number];
  const tails = new Map<string, Tail>();
  const out = new Float64Array(candidates.length);
  const rate = Float64Array.from(terms.lr, (lr) => (lr === 0 ? Infinity : C * lr ** -gamma));
  candidates.forEach((c, i) => {
    const key = tailKey(c);
    let tail = tails.get(key);
    if (!tail) {
      tail = evaluateTail(terms.level, c, params);
      tails.set(key, tail);
    }
    const X = terms.sum + terms.level * (c.start - terms.length) + tail.sum;
    let drop = tail.drop;
    for (let k = 0; k < rate.length; k++) {
      const gap = X - terms.before[k]!;
      const r = rate[k]!;
      drop += r === Infinity ? (gap > 0 ? terms.delta[k]! : 0) : terms.delta[k]! * -Math.expm1(-beta * Math.log1p(r * gap));
    }
    out[i] = L0 + A * X ** -alpha + B * drop;
  });
  return out;
}

/** The whole run of a candidate: the prefix, the level up to its start, then its tail. */
export function candidateLrs(prefix: Float64Array, c: CooldownCandidate): Float64Array {
  const level = prefix[prefix.length - 1]!;
  const lrs = new Float64Array(c.end);
  lrs.set(prefix);
  lrs.fill(level, prefix.length, c.start);
  lrs.set(tailLrs(level, c), c.start);
  return lrs;
}
