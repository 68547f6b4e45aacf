/**
 * Calibration of the prediction intervals on the transfer benchmark's held-out points (records of
 * intervals-collect.ts), and their coverage.
 *
 * Points weigh as the transfer benchmark weighs them: each protocol the same, each target the same
 * within its protocol, each point the same within its target.
 *
 * The calibration procedure on a set of protocol groups, for a kappa of the grid (Calibrator.calibrate):
 *
 *   - the scale model, fitConstants on every point of the set: floor, shape, horizon, peak by maximum
 *     likelihood of |e| ~ Laplace(0, sigma), e = ln(obs / pred), sigma from logErrorScale (the
 *     parameter variance taken as it is), by Nelder-Mead on their logs (bounded to [e^-20, e^3])
 *     with a tiny L1 penalty (1e-3 of each term's typical share of the error) that settles weights
 *     the data barely inform; a covariate that is 0 on every calibration point (the peak when no
 *     cross-peak protocol is among them) has no evidence for its weight and gets 0;
 *   - the multipliers, cross-validated: each group's points are scaled by the model fitted on the
 *     set's other groups, and k80, k95 are the weighted 80% and 95% quantiles of |e| / sigma over
 *     all of them. So the multipliers are set on errors of protocols the scale model did not see,
 *     as a new fit's are: the in-sample quantiles (the first calibration) covered 80% / 95% of the
 *     points the model was fitted on but only 75.0% / 89.4% of held-out groups.
 *
 * kappa is chosen on the same set (Calibrator.choose) as a constant of the scale model: the grid's
 * value whose model has the highest likelihood on the set's points. (Choosing it by the narrowest
 * cross-validated intervals, or their interval score, was tried: both keep preferring the largest
 * kappa of the grid, whose model drops the horizon term, and the nested evaluation then covered
 * 85.4% at 80%, just outside the target; bench/results/intervals.md reports both scores per kappa.)
 * No figure of a group outside the set enters.
 *
 * Evaluation (evaluateNested): for each group in turn, the whole procedure (kappa included) runs on
 * the other five groups and its coverage is measured on the group left out; the in-sample figures use
 * the procedure's outcome on all six, which is what ships.
 */
import { GROUPS, type TransferGroup } from './transfer-protocols.js';
import { levelMultiplier, logErrorScale, type IntervalCalibration } from '../src/predict/interval-calibration.js';
import { KAPPA_GRID, type ProtocolRecords } from './intervals-collect.js';

/** The held-out points of every protocol, flattened. */
export interface Points {
  n: number;
  logError: Float64Array;
  paramVar: Float64Array;
  horizon: Float64Array;
  peak: Float64Array;
  /** shape[k] for KAPPA_GRID[k]. */
  shape: Float64Array[];
  weight: Float64Array;
  group: Int32Array;
  protocol: Int32Array;
}

export function flatten(records: ProtocolRecords[]): Points {
  const n = records.reduce((t, p) => t + p.targets.reduce((u, x) => u + x.steps.length, 0), 0);
  const pts: Points = {
    n,
    logError: new Float64Array(n),
    paramVar: new Float64Array(n),
    horizon: new Float64Array(n),
    peak: new Float64Array(n),
    shape: KAPPA_GRID.map(() => new Float64Array(n)),
    weight: new Float64Array(n),
    group: new Int32Array(n),
    protocol: new Int32Array(n),
  };
  let at = 0;
  records.forEach((p, pi) => {
    for (const t of p.targets) {
      const m = t.steps.length;
      for (let i = 0; i < m; i++, at++) {
        pts.logError[at] = t.logError[i]!;
        pts.paramVar[at] = t.paramVar[i]!;
        pts.horizon[at] = t.horizon[i]!;
        pts.peak[at] = t.peak;
        KAPPA_GRID.forEach((_, k) => (pts.shape[k]![at] = t.shape[k]![i]!));
        pts.weight[at] = 1 / m / p.targets.length / records.length;
        pts.group[at] = GROUPS.indexOf(p.group);
        pts.protocol[at] = pi;
      }
    }
  });
  return pts;
}

/** Nelder-Mead minimization (standard coefficients), from `x0` with initial step `step`. */
export function nelderMead(f: (x: number[]) => number, x0: number[], step = 1, maxEvaluations = 4000, tolerance = 1e-10): { x: number[]; value: number } {
  const d = x0.length;
  let simplex = [x0, ...x0.map((_, j) => x0.map((v, i) => (i === j ? v + step : v)))].map((x) => ({ x, value: f(x) }));
  let evaluations = simplex.length;
  while (evaluations < maxEvaluations) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0]!;
    const worst = simplex[d]!;
    if (Math.abs(worst.value - best.value) <= tolerance * (Math.abs(best.value) + tolerance)) break;
    const centroid = x0.map((_, i) => simplex.slice(0, d).reduce((t, p) => t + p.x[i]!, 0) / d);
    const along = (t: number) => centroid.map((c, i) => c + t * (worst.x[i]! - c));
    const reflected = along(-1);
    const fr = f(reflected);
    evaluations++;
    if (fr < best.value) {
      const expanded = along(-2);
      const fe = f(expanded);
      evaluations++;
      simplex[d] = fe < fr ? { x: expanded, value: fe } : { x: reflected, value: fr };
    } else if (fr < simplex[d - 1]!.value) {
      simplex[d] = { x: reflected, value: fr };
    } else {
      const contracted = fr < worst.value ? along(-0.5) : along(0.5);
      const fc = f(contracted);
      evaluations++;
      if (fc < Math.min(fr, worst.value)) {
        simplex[d] = { x: contracted, value: fc };
      } else {
        simplex = simplex.map((p, k) => {
          if (k === 0) return p;
          const x = p.x.map((v, i) => best.x[i]! + 0.5 * (v - best.x[i]!));
          evaluations++;
          return { x, value: f(x) };
        });
      }
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  return simplex[0]!;
}

/** The weighted quantile `q` of `values` (weights `weights`). */
export function weightedQuantile(values: Float64Array, weights: Float64Array, q: number): number {
  const order = Array.from(values.keys()).sort((a, b) => values[a]! - values[b]!);
  let total = 0;
  for (const w of weights) total += w;
  let cum = 0;
  for (const i of order) {
    cum += weights[i]!;
    if (cum >= q * total) return values[i]!;
  }
  return values[order[order.length - 1]!]!;
}

const LOG_BOUNDS: [number, number] = [-20, 3];
const PENALTY = 1e-3;

/** A selection of the points (indices). */
export type Selection = Int32Array;

export function select(pts: Points, keep: (i: number) => boolean): Selection {
  const out: number[] = [];
  for (let i = 0; i < pts.n; i++) if (keep(i)) out.push(i);
  return Int32Array.from(out);
}

/** sigma at point i for constants `c` with kappa index `k`. */
function sigmaAt(pts: Points, i: number, c: IntervalCalibration, k: number): number {
  return logErrorScale(pts.paramVar[i]!, pts.shape[k]![i]!, pts.horizon[i]!, pts.peak[i]!, c);
}

/** Fit the constants on the points `sel` for KAPPA_GRID[k] (see the file comment). */
export function fitConstants(pts: Points, sel: Selection, k: number): IntervalCalibration {
  const kappa = KAPPA_GRID[k]!;
  let wSum = 0;
  let absE = 0;
  let meanShape = 0;
  let meanHorizon = 0;
  let meanPeak = 0;
  for (const i of sel) {
    const w = pts.weight[i]!;
    wSum += w;
    absE += w * Math.abs(pts.logError[i]!);
    meanShape += w * pts.shape[k]![i]!;
    meanHorizon += w * pts.horizon[i]!;
    meanPeak += w * pts.peak[i]!;
  }
  // Each term's typical share of the error, per unit of its weight (floor, shape, horizon, peak).
  const scale = [wSum, meanShape, meanHorizon, meanPeak].map((m) => m / absE);
  // A covariate that is 0 on every calibration point has no evidence for its weight: 0.
  const constants = (theta: number[]): IntervalCalibration => {
    const [floor, shape, horizon, peak] = theta.map((t, j) => (scale[j]! > 0 ? Math.exp(Math.min(LOG_BOUNDS[1], Math.max(LOG_BOUNDS[0], t))) : 0)) as [number, number, number, number];
    return { kappa, floor, shape, horizon, peak, k80: 1, k95: 1 };
  };
  const objective = (theta: number[]) => {
    const c = constants(theta);
    let nll = 0;
    for (const i of sel) {
      const s = sigmaAt(pts, i, c, k);
      nll += pts.weight[i]! * (Math.log(s) + Math.abs(pts.logError[i]!) / s);
    }
    return nll / wSum + PENALTY * [c.floor, c.shape, c.horizon, c.peak].reduce((t, v, j) => t + v * scale[j]!, 0);
  };
  let best = { x: [-3, -3, -3, -3], value: Infinity };
  for (const x0 of [
    [-3, -3, -3, -3],
    [-7, -4, -7, -4],
    [-5, -2, -5, -2],
  ]) {
    let r = nelderMead(objective, x0, 1.5);
    r = nelderMead(objective, r.x, 0.5);
    r = nelderMead(objective, r.x, 0.1);
    if (r.value < best.value) best = r;
  }
  const c = constants(best.x);
  const ratio = new Float64Array(sel.length);
  const weights = new Float64Array(sel.length);
  sel.forEach((i, j) => {
    ratio[j] = Math.abs(pts.logError[i]!) / sigmaAt(pts, i, c, k);
    weights[j] = pts.weight[i]!;
  });
  return { ...c, k80: weightedQuantile(ratio, weights, 0.8), k95: weightedQuantile(ratio, weights, 0.95) };
}

/** Coverage and mean relative width ((upper - lower) / pred) of the 80% and 95% intervals on `sel`. */
export interface Coverage {
  cover80: number;
  cover95: number;
  width80: number;
  width95: number;
  /** Points and total weight. */
  points: number;
  weight: number;
}

export function coverage(pts: Points, sel: Selection, c: IntervalCalibration): Coverage {
  const k = KAPPA_GRID.indexOf(c.kappa as (typeof KAPPA_GRID)[number]);
  if (k < 0) throw new RangeError(`kappa ${c.kappa} is not on the recorded grid ${KAPPA_GRID.join(', ')}`);
  const m80 = levelMultiplier(0.8, c);
  const m95 = levelMultiplier(0.95, c);
  const out = { cover80: 0, cover95: 0, width80: 0, width95: 0, points: sel.length, weight: 0 };
  for (const i of sel) {
    const w = pts.weight[i]!;
    const s = sigmaAt(pts, i, c, k);
    const e = Math.abs(pts.logError[i]!);
    out.weight += w;
    if (e <= m80 * s) out.cover80 += w;
    if (e <= m95 * s) out.cover95 += w;
    out.width80 += w * 2 * Math.sinh(m80 * s);
    out.width95 += w * 2 * Math.sinh(m95 * s);
  }
  for (const key of ['cover80', 'cover95', 'width80', 'width95'] as const) out[key] /= out.weight;
  return out;
}

/** Fitted constants of the scale model, memoized by (group set, kappa): the nested procedure refits the same subsets. */
export class Calibrator {
  private readonly fits = new Map<string, IntervalCalibration>();
  private readonly procedures = new Map<string, Calibration>();

  constructor(readonly pts: Points) {}

  /** fitConstants on the points of `groups` (group indices) for KAPPA_GRID[k]: k80/k95 in-sample. */
  fit(groups: readonly number[], k: number): IntervalCalibration {
    const set = [...groups].sort((a, b) => a - b);
    const key = `${set.join(',')}/${k}`;
    let c = this.fits.get(key);
    if (!c) {
      c = fitConstants(this.pts, select(this.pts, (i) => set.includes(this.pts.group[i]!)), k);
      this.fits.set(key, c);
    }
    return c;
  }

  /**
   * The calibration procedure on `groups` for KAPPA_GRID[k] (see the file comment): the scale model
   * fitted on every point of `groups`; k80 and k95 the weighted 80% and 95% quantiles of
   * |e| / sigma over their leave-one-group-out points (each group's points scaled by the model fitted
   * on the others), so those held-out points are covered at exactly 80% and 95%. `inner` gives those
   * points' coverage and mean width.
   */
  calibrate(groups: readonly number[], k: number): Calibration {
    const set = [...groups].sort((a, b) => a - b);
    const key = `${set.join(',')}/${k}`;
    const memo = this.procedures.get(key);
    if (memo) return memo;
    const pts = this.pts;
    const model = this.fit(set, k);
    const held = select(pts, (i) => set.includes(pts.group[i]!));
    const ratio = new Float64Array(held.length);
    const sigma = new Float64Array(held.length);
    const weight = new Float64Array(held.length);
    for (const h of set) {
      const without = this.fit(
        set.filter((g) => g !== h),
        k,
      );
      held.forEach((i, j) => {
        if (pts.group[i] !== h) return;
        sigma[j] = sigmaAt(pts, i, without, k);
        ratio[j] = Math.abs(pts.logError[i]!) / sigma[j]!;
        weight[j] = pts.weight[i]!;
      });
    }
    const constants = { ...model, k80: weightedQuantile(ratio, weight, 0.8), k95: weightedQuantile(ratio, weight, 0.95) };
    const m80 = levelMultiplier(0.8, constants);
    const m95 = levelMultiplier(0.95, constants);
    const inner = { cover80: 0, cover95: 0, width80: 0, width95: 0, points: held.length, weight: 0 };
    held.forEach((_, j) => {
      const w = weight[j]!;
      inner.weight += w;
      if (ratio[j]! <= m80) inner.cover80 += w;
      if (ratio[j]! <= m95) inner.cover95 += w;
      inner.width80 += w * 2 * Math.sinh(m80 * sigma[j]!);
      inner.width95 += w * 2 * Math.sinh(m95 * sigma[j]!);
    });
    for (const key of ['cover80', 'cover95', 'width80', 'width95'] as const) inner[key] /= inner.weight;
    const score = intervalScore(ratio, sigma, weight, m80, 0.2) + intervalScore(ratio, sigma, weight, m95, 0.05);
    const nll = negativeLogLikelihood(pts, held, model, k);
    const result = { kappa: KAPPA_GRID[k]!, constants, inner, score, nll, ratio, weight };
    this.procedures.set(key, result);
    return result;
  }

  /**
   * The kappa of the grid whose scale model fits the points of `groups` best (the lowest mean Laplace
   * negative log-likelihood: kappa is fitted like the model's other constants), and its procedure.
   */
  choose(groups: readonly number[]): Calibration {
    const all = KAPPA_GRID.map((_, k) => this.calibrate(groups, k));
    return all.reduce((best, c) => (c.nll < best.nll ? c : best));
  }
}

/** The mean Laplace negative log-likelihood of |e| under the scale model `c` (kappa index k) on `sel`, without the fit's penalty. */
export function negativeLogLikelihood(pts: Points, sel: Selection, c: IntervalCalibration, k: number): number {
  let total = 0;
  let weights = 0;
  for (const i of sel) {
    const s = sigmaAt(pts, i, c, k);
    total += pts.weight[i]! * (Math.log(s) + Math.abs(pts.logError[i]!) / s);
    weights += pts.weight[i]!;
  }
  return total / weights;
}

/**
 * The mean interval score (Gneiting and Raftery 2007) on the log scale of central intervals
 * +-m sigma at miss rate `alpha`: width 2 m sigma plus (2 / alpha) times how far a point falls
 * outside (lower is better; reported beside each kappa).
 */
export function intervalScore(ratio: Float64Array, sigma: Float64Array, weight: Float64Array, m: number, alpha: number): number {
  let total = 0;
  let weights = 0;
  for (let j = 0; j < ratio.length; j++) {
    const half = m * sigma[j]!;
    const miss = Math.max(0, ratio[j]! * sigma[j]! - half);
    total += weight[j]! * (2 * half + (2 / alpha) * miss);
    weights += weight[j]!;
  }
  return total / weights;
}

/** The outcome of the calibration procedure on a set of groups. */
export interface Calibration {
  kappa: number;
  constants: IntervalCalibration;
  /** Coverage and width on the set's leave-one-group-out points (80% and 95% by construction, up to ties). */
  inner: Coverage;
  /** The interval score of the 80% plus the 95% intervals on those points (log scale; reported, not used). */
  score: number;
  /** The scale model's mean negative log-likelihood on the set's points: what chooses kappa. */
  nll: number;
  /** |e| / sigma of those points (sigma without their group) and their weights: what k80 and k95 are quantiles of. */
  ratio: Float64Array;
  weight: Float64Array;
}

export interface GroupRow {
  group: TransferGroup | 'pooled';
  protocols: number;
  /** Coverage of the constants calibrated on every group (their scale model saw this group). */
  inSample: Coverage;
  /** Coverage of the constants calibrated without this group. */
  heldOut: Coverage;
  /** The constants calibrated without this group (for the held-out figures). */
  heldOutConstants?: IntervalCalibration;
}

export interface KappaResult {
  kappa: number;
  /** Constants calibrated on every group. */
  constants: IntervalCalibration;
  /** Their inner (leave-one-group-out) coverage, width and interval score, and the scale model's likelihood (by which kappa is chosen). */
  inner: Coverage;
  score: number;
  nll: number;
  groups: GroupRow[];
}

/** Weighted mean of coverages (by their weight, i.e. protocols weighing the same). */
export function pool(list: Coverage[]): Coverage {
  const weight = list.reduce((t, c) => t + c.weight, 0);
  const mean = (key: 'cover80' | 'cover95' | 'width80' | 'width95') => list.reduce((t, c) => t + c[key] * c.weight, 0) / weight;
  return { cover80: mean('cover80'), cover95: mean('cover95'), width80: mean('width80'), width95: mean('width95'), points: list.reduce((t, c) => t + c.points, 0), weight };
}

/** The groups present in the points (indices into GROUPS). */
export function groupsOf(pts: Points): number[] {
  return [...new Set(Array.from(pts.group))].sort((a, b) => a - b);
}

/** In-sample and leave-one-group-out figures of the procedure at KAPPA_GRID[k] (kappa fixed). */
export function evaluateKappa(cal: Calibrator, records: ProtocolRecords[], k: number): KappaResult {
  const pts = cal.pts;
  const present = groupsOf(pts);
  const top = cal.calibrate(present, k);
  const groups: GroupRow[] = [];
  for (const g of present) {
    const group = GROUPS[g]!;
    const inGroup = select(pts, (i) => pts.group[i] === g);
    const heldOutConstants = cal.calibrate(
      present.filter((x) => x !== g),
      k,
    ).constants;
    groups.push({
      group,
      protocols: records.filter((p) => p.group === group).length,
      inSample: coverage(pts, inGroup, top.constants),
      heldOut: coverage(pts, inGroup, heldOutConstants),
      heldOutConstants,
    });
  }
  groups.push({ group: 'pooled', protocols: records.length, inSample: pool(groups.map((r) => r.inSample)), heldOut: pool(groups.map((r) => r.heldOut)) });
  return { kappa: KAPPA_GRID[k]!, constants: top.constants, inner: top.inner, score: top.score, nll: top.nll, groups };
}

/** The nested evaluation: for each group, kappa and constants chosen by the whole procedure on the other groups, coverage on it. */
export interface NestedRow extends GroupRow {
  /** The kappa the procedure chose without this group. */
  heldOutKappa?: number;
}

export function evaluateNested(cal: Calibrator, records: ProtocolRecords[], shipped: IntervalCalibration): NestedRow[] {
  const pts = cal.pts;
  const present = groupsOf(pts);
  const rows: NestedRow[] = [];
  for (const g of present) {
    const group = GROUPS[g]!;
    const inGroup = select(pts, (i) => pts.group[i] === g);
    const chosen = cal.choose(present.filter((x) => x !== g));
    rows.push({
      group,
      protocols: records.filter((p) => p.group === group).length,
      inSample: coverage(pts, inGroup, shipped),
      heldOut: coverage(pts, inGroup, chosen.constants),
      heldOutConstants: chosen.constants,
      heldOutKappa: chosen.kappa,
    });
  }
  rows.push({ group: 'pooled', protocols: records.length, inSample: pool(rows.map((r) => r.inSample)), heldOut: pool(rows.map((r) => r.heldOut)) });
  return rows;
}

/** Whether pooled held-out coverage lies inside the targets (80% in 75-85%, 95% in 90-98%). */
export function withinTargets(c: Coverage): boolean {
  return c.cover80 >= 0.75 && c.cover80 <= 0.85 && c.cover95 >= 0.9 && c.cover95 <= 0.98;
}
