/**
 * Calibration of the prediction intervals on the transfer benchmark's held-out points (records of
 * intervals-collect.ts), and their coverage.
 *
 * Points weigh as the transfer benchmark weighs them: each protocol the same, each target the same
 * within its protocol, each point the same within its target. For a kappa of the grid, the
 * constants of src/predict/interval-calibration.ts are fitted on a set of points:
 *
 *   - floor, shape, horizon, peak: maximum likelihood of |e| ~ Laplace(0, sigma), e = ln(obs / pred),
 *     sigma from logErrorScale (the parameter variance taken as it is), by Nelder-Mead on their logs
 *     (bounded to [e^-20, e^3]) with a tiny L1 penalty (1e-3 of each term's typical share of the
 *     error) that settles weights the data barely inform; a covariate that is 0 on every
 *     calibration point (the peak when no cross-peak protocol is among them) has no evidence for
 *     its weight and gets 0;
 *   - k80, k95: the weighted 80% and 95% quantiles of |e| / sigma, so the calibration points are
 *     covered at exactly those rates.
 *
 * Leave-one-group-out: the constants are fitted on five protocol groups and the coverage measured on
 * the sixth, for each group in turn; the in-sample figures use the constants fitted on all six.
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

export interface GroupRow {
  group: TransferGroup | 'pooled';
  protocols: number;
  inSample: Coverage;
  heldOut: Coverage;
  /** The constants fitted without this group (for the held-out figures). */
  heldOutConstants?: IntervalCalibration;
}

export interface KappaResult {
  kappa: number;
  /** Constants fitted on every group. */
  constants: IntervalCalibration;
  groups: GroupRow[];
}

/** Weighted mean of coverages (by their weight, i.e. protocols weighing the same). */
function pool(list: Coverage[]): Coverage {
  const weight = list.reduce((t, c) => t + c.weight, 0);
  const mean = (key: 'cover80' | 'cover95' | 'width80' | 'width95') => list.reduce((t, c) => t + c[key] * c.weight, 0) / weight;
  return { cover80: mean('cover80'), cover95: mean('cover95'), width80: mean('width80'), width95: mean('width95'), points: list.reduce((t, c) => t + c.points, 0), weight };
}

/** In-sample (all groups) and leave-one-group-out figures for KAPPA_GRID[k]. */
export function evaluateKappa(pts: Points, records: ProtocolRecords[], k: number): KappaResult {
  const all = select(pts, () => true);
  const constants = fitConstants(pts, all, k);
  const groups: GroupRow[] = [];
  for (const [g, group] of GROUPS.entries()) {
    const inGroup = select(pts, (i) => pts.group[i] === g);
    if (inGroup.length === 0) continue;
    const heldOutConstants = fitConstants(pts, select(pts, (i) => pts.group[i] !== g), k);
    groups.push({
      group,
      protocols: records.filter((p) => p.group === group).length,
      inSample: coverage(pts, inGroup, constants),
      heldOut: coverage(pts, inGroup, heldOutConstants),
      heldOutConstants,
    });
  }
  groups.push({ group: 'pooled', protocols: records.length, inSample: pool(groups.map((r) => r.inSample)), heldOut: pool(groups.map((r) => r.heldOut)) });
  return { kappa: KAPPA_GRID[k]!, constants, groups };
}

/**
 * How far a result's pooled held-out coverage lies from the targets (80% in 75-85%, 95% in 90-98%):
 * 0 inside both ranges, else the distance to them; ties go to the narrower intervals.
 */
export function heldOutMiss(result: KappaResult): number {
  const pooled = result.groups.find((g) => g.group === 'pooled')!.heldOut;
  const outside = (v: number, lo: number, hi: number) => Math.max(0, lo - v, v - hi);
  return outside(pooled.cover80, 0.75, 0.85) + outside(pooled.cover95, 0.9, 0.98);
}
