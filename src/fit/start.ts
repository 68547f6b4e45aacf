/**
 * Global start of a fit. Every law is linear in three params given the others (the law's `start`,
 * src/laws/law.ts): mpl: pred = L0 + A * S^-alpha + B * drop(C, beta, gamma); lra: pred = L0 +
 * A * S^-alpha - C * S2. The law's sampled params are drawn (a seeded Latin hypercube, for mpl over
 * (log C, beta, gamma)) times a grid of alpha, the linear ones solved by weighted least squares on
 * relative errors (= log residuals to first order), and every sample scored by the Huber objective.
 * The alpha grid also holds the reference's initial guess: L0, A, alpha fitted on the constant-lr part
 * of the curves. The best distinct samples start the local refinement (a law that samples nothing:
 * the best alphas).
 */
import { cumulativeLr } from '../laws/mpl/index.js';
import type { Law } from '../laws/law.js';
import { cholesky, choleskySolve } from './dense.js';
import { huberObjective } from './objective.js';
import type { PreparedCurve } from './prepare.js';
import { latinHypercube } from './rng.js';
import { seededRandom } from '../util/random.js';

export interface StartCandidate {
  params: number[];
  objective: number;
}

export interface StartOptions {
  seed: number;
  samples: number;
  keep: number;
  /** The law's options (e.g. lra's lambda), for its start column. */
  lawOptions?: Record<string, unknown>;
  /** Huber delta of the score that ranks the samples (default HUBER_DELTA, 1e-3: the fit's objective). */
  delta?: number;
}

export const ALPHA_GRID: readonly number[] = Array.from({ length: 30 }, (_, i) => 0.05 * (i + 1));

interface Columns {
  /** S(s) at each point, concatenated over curves. */
  cum: Float64Array;
  observed: Float64Array;
  weight: Float64Array;
}

function columns(curves: PreparedCurve[]): Columns {
  const n = curves.reduce((t, c) => t + c.steps.length, 0);
  const cum = new Float64Array(n);
  const observed = new Float64Array(n);
  const weight = new Float64Array(n);
  let at = 0;
  for (const c of curves) {
    const S = cumulativeLr(c.curve.lrs);
    c.steps.forEach((s, i) => {
      cum[at + i] = S[s]!;
    });
    observed.set(c.logLoss, at);
    weight.set(c.weight, at);
    at += c.steps.length;
  }
  return { cum, observed, weight };
}

/**
 * Weighted least squares of y on the given basis columns with relative-error weights, with the
 * coefficients flagged `nonNegative` kept >= 0 (dropping a column that would go negative).
 */
function linearFit(basis: Float64Array[], loss: Float64Array, weight: Float64Array, nonNegative: boolean[]): number[] | null {
  const k = basis.length;
  let active = basis.map(() => true);
  for (let attempt = 0; attempt <= k; attempt++) {
    const idx = active.flatMap((on, j) => (on ? [j] : []));
    const m = idx.length;
    const A = new Float64Array(m * m);
    const b = new Float64Array(m);
    for (let i = 0; i < loss.length; i++) {
      const wi = weight[i]! / (loss[i]! * loss[i]!);
      for (let a = 0; a < m; a++) {
        const xa = basis[idx[a]!]![i]! * wi;
        b[a] = b[a]! + xa * loss[i]!;
        for (let c = 0; c <= a; c++) A[a * m + c] = A[a * m + c]! + xa * basis[idx[c]!]![i]!;
      }
    }
    for (let a = 0; a < m; a++) for (let c = 0; c < a; c++) A[c * m + a] = A[a * m + c]!;
    for (let a = 0; a < m; a++) A[a * m + a] = A[a * m + a]! * (1 + 1e-12) + 1e-300;
    const L = cholesky(A, m);
    if (!L) return null;
    const x = choleskySolve(L, m, b);
    const coef = new Array<number>(k).fill(0);
    idx.forEach((j, a) => {
      coef[j] = x[a]!;
    });
    const negative = coef.findIndex((v, j) => nonNegative[j] && active[j] && v < 0);
    if (negative < 0) return coef;
    active = active.map((on, j) => on && j !== negative);
  }
  return null;
}

function scoreLinear(basis: Float64Array[], coef: number[], observed: Float64Array, weight: Float64Array, delta?: number): number {
  const logPred = new Float64Array(observed.length);
  for (let i = 0; i < observed.length; i++) {
    let p = 0;
    for (let j = 0; j < basis.length; j++) p += coef[j]! * basis[j]![i]!;
    logPred[i] = p > 0 ? Math.log(p) : NaN;
  }
  return huberObjective(observed, logPred, weight, delta);
}

/**
 * The reference's initial guess: L0, A, alpha of L0 + A S^-alpha fitted on the points where the lr
 * has stayed at the value it reached after warmup (the constant-lr part). Null when no curve has one.
 */
export function constantPartGuess(curves: PreparedCurve[]): { L0: number; A: number; alpha: number } | null {
  const cum: number[] = [];
  const loss: number[] = [];
  for (const c of curves) {
    const lrs = c.curve.lrs;
    const S = cumulativeLr(lrs);
    // First step of the lr plateau reached after the (increasing) warmup.
    let plateau = 0;
    while (plateau + 1 < lrs.length && lrs[plateau + 1]! > lrs[plateau]!) plateau++;
    let end = plateau;
    while (end + 1 < lrs.length && lrs[end + 1] === lrs[plateau]) end++;
    c.steps.forEach((s, i) => {
      if (s > plateau && s <= end) {
        cum.push(S[s]!);
        loss.push(Math.exp(c.logLoss[i]!));
      }
    });
  }
  if (cum.length < 3) return null;
  const y = Float64Array.from(loss);
  const w = new Float64Array(y.length).fill(1);
  const ones = new Float64Array(y.length).fill(1);
  const observed = Float64Array.from(loss, Math.log);
  let best: { L0: number; A: number; alpha: number; score: number } | null = null;
  for (let alpha = 0.02; alpha <= 2.0001; alpha += 0.02) {
    const power = Float64Array.from(cum, (S) => S ** -alpha);
    const coef = linearFit([ones, power], y, w, [true, true]);
    if (!coef) continue;
    const score = scoreLinear([ones, power], coef, observed, w);
    if (!best || score < best.score) best = { L0: coef[0]!, A: coef[1]!, alpha, score };
  }
  return best && { L0: best.L0, A: best.A, alpha: best.alpha };
}

/** The law's start column over every point of `curves` (concatenated in curve order). */
function startColumn(law: Law<any>, curves: PreparedCurve[], n: number, sampled: readonly number[], lawOptions?: Record<string, unknown>): Float64Array {
  const column = new Float64Array(n);
  let at = 0;
  for (const c of curves) {
    const d = law.start.column(c.curve.lrs, c.steps, sampled, lawOptions);
    column.set(d, at);
    at += d.length;
  }
  return column;
}

/** Sampled starts for `law`, best first (at most `keep`, distinct nonlinear samples). */
export function globalStarts(law: Law<any>, curves: PreparedCurve[], options: StartOptions): { starts: StartCandidate[]; constantGuess: ReturnType<typeof constantPartGuess> } {
  const { cum, observed, weight } = columns(curves);
  const loss = Float64Array.from(observed, Math.exp);
  const ones = new Float64Array(cum.length).fill(1);
  const constantGuess = constantPartGuess(curves);
  const alphas = [...ALPHA_GRID];
  if (constantGuess) alphas.push(constantGuess.alpha);
  const powers = alphas.map((alpha) => Float64Array.from(cum, (S) => S ** -alpha));
  const { linear, sampled } = law.start;
  const params = (coef: number[], alpha: number, values: readonly number[]): number[] => {
    const p = law.params.map((spec) => spec.init);
    p[linear[0]] = coef[0]!;
    p[linear[1]] = coef[1]!;
    p[law.start.alpha] = alpha;
    p[linear[2]] = coef[2]!;
    sampled.forEach((param, j) => {
      p[param.index] = values[j]!;
    });
    return p;
  };

  if (sampled.length === 0) {
    // Nothing to sample: every alpha is a candidate.
    const results: StartCandidate[] = [];
    const column = startColumn(law, curves, cum.length, [], options.lawOptions);
    alphas.forEach((alpha, a) => {
      const basis = [ones, powers[a]!, column];
      const coef = linearFit(basis, loss, weight, [true, true, true]);
      if (!coef) return;
      const objective = scoreLinear(basis, coef, observed, weight, options.delta);
      if (Number.isFinite(objective)) results.push({ params: params(coef, alpha, []), objective });
    });
    results.sort((x, y) => x.objective - y.objective);
    return { starts: results.slice(0, options.keep), constantGuess };
  }

  const random = seededRandom(options.seed);
  const samples = latinHypercube(options.samples, sampled.length, random);
  const perSample: StartCandidate[] = [];
  for (const u of samples) {
    const values = sampled.map(({ range: [lo, hi], log }, j) => {
      const x = lo + u[j]! * (hi - lo);
      return log ? Math.exp(x) : x;
    });
    const column = startColumn(law, curves, cum.length, values, options.lawOptions);
    let best: StartCandidate | null = null;
    alphas.forEach((alpha, a) => {
      const basis = [ones, powers[a]!, column];
      const coef = linearFit(basis, loss, weight, [true, true, true]);
      if (!coef) return;
      const objective = scoreLinear(basis, coef, observed, weight, options.delta);
      if (Number.isFinite(objective) && (!best || objective < best.objective)) {
        best = { params: params(coef, alpha, values), objective };
      }
    });
    if (best) perSample.push(best);
  }
  perSample.sort((x, y) => x.objective - y.objective);
  return { starts: perSample.slice(0, options.keep), constantGuess };
}
