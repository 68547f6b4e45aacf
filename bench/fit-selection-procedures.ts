/**
 * Candidate mpl fit procedures measured by bench/fit-selection.ts that are not (yet) fitLaw methods:
 * each takes the fit curves and returns one param vector (absolute units), so the transfer benchmark
 * scores it like any method (a TransferMethod with `procedure: name`). A candidate that wins the
 * selection becomes a method in src/fit; the others stay here with their figures.
 *
 * Every candidate works in relative units as fitLaw's methods do (lrs in units of the peak lr, set to
 * 3e-4; losses in units of the lowest, set to 3), so it is unit-free, and weighs the curves equally.
 *
 * - `anchor k=K`: the reference procedure (reference.ts) in relative units gives p_ref; then
 *   Levenberg-Marquardt on the Huber objective plus a Gaussian prior centred on p_ref (on the log of
 *   every param but gamma, width 1), of strength K pseudo-points of the fit's residual scale (as
 *   map.ts weighs its prior). K -> infinity gives the reference, K -> 0 the converged fit from p_ref.
 *   `anchor L0/A/alpha width 0.01 k=30`: the same with a 100x narrower prior on L0, A and alpha.
 * - `freeze L0/A/alpha, map prior`: p_ref's L0, A, alpha held; B, C, beta, gamma fitted by LM under
 *   map's published prior (priorWeight 1).
 * - `blend t=T`: the reference's and map's params mixed in log-params, (1 - T) p_ref + T p_map (one
 *   param vector, not an average of predictions).
 * - `select by leave-one-out: reference or map w=W`: with 2+ fit curves, the reference (relative
 *   units) and map with priorWeight W are each fitted on all but one curve and scored (PredE) on the
 *   left-out one, for each curve; the procedure with the lower mean is then fitted on every curve.
 *   With one fit curve there is nothing to leave out and it takes the reference. Only the fit curves
 *   decide, never the targets.
 * - `reference, peak lr as U`: the reference procedure with the peak lr set to U (1e-4, 1e-3, 3e-3)
 *   instead of 3e-4 in relative units (still unit-free). The reference's start grid and AdamW step
 *   sizes are fixed numbers, so this moves where its early stop lands and nothing else: these rows
 *   measure how much of the reference's figures is the luck of its units
 *   (bench/fit-selection-noise.ts puts them beside the 5% condition).
 * - `map, B held at the simplified start, w=W`: map's start (the simplified model's L0, A, alpha, B
 *   on the prepared points; C, beta, gamma at the prior centres), then LM under map's prior of weight
 *   W with B held there. The reference's AdamW barely moves B from that start (a step of 5e-2 per
 *   iteration against B in the hundreds), so its B is in effect the simplified model's: the long-run
 *   drop amplitude read straight off the data as B (peak - lr), instead of traded against the drop
 *   shape (C, beta, gamma) in a valley that a converged fit slides along. `alpha/B held` and
 *   `L0/A/alpha/B held` hold more of the start (both lose: the start's power law is not the fit's).
 */
import { boundsOf, equalCurveWeights } from '../src/fit/fit-law.js';
import { levenbergMarquardtHuber } from '../src/fit/lm.js';
import { fitMap, MAP_PRIOR } from '../src/fit/map.js';
import { HUBER_DELTA, logModel } from '../src/fit/objective.js';
import { DEFAULT_MAX_POINTS, prepareCurve, type PreparedCurve } from '../src/fit/prepare.js';
import { withPrior, type ParamPrior } from '../src/fit/prior.js';
import { evaluateMetrics } from '../src/fit/evaluate.js';
import { fitReference, referenceSimplifiedStart, simplifiedPoints } from '../src/fit/reference.js';
import type { FitCurve } from '../src/fit/types.js';
import { getLaw } from '../src/laws/index.js';

const law = getLaw('mpl');
const { min, max } = boundsOf(law, {});
/** Params whose anchor is on their log (all but gamma, which may be 0). */
const ON_LOG = [true, true, true, true, true, true, false];
const LR_GRID = 2 ** 28;

/** The curves in relative units (as fitLaw's fitInUnits, with the peak lr set to `unitPeak`), and the map of fitted params back. */
function relativeUnits(prepared: PreparedCurve[], unitPeak = 3e-4) {
  let peak = 0;
  for (const c of prepared) for (const lr of c.curve.lrs) if (lr > peak) peak = lr;
  let lowest = Infinity;
  for (const c of prepared) for (const v of c.logLoss) if (v < lowest) lowest = v;
  const lossFactor = 3 / Math.exp(lowest);
  const shift = Math.log(lossFactor);
  const inUnits = (lr: number) => (Math.round((lr / peak) * LR_GRID) / LR_GRID) * unitPeak;
  const scaled = prepared.map((c) => ({ ...c, logLoss: c.logLoss.map((v) => v + shift), curve: { ...c.curve, lrs: c.curve.lrs.map(inUnits), loss: c.curve.loss.map((y) => y * lossFactor) } }));
  const back = (p: ArrayLike<number>) => Array.from(law.rescaleLoss(law.rescaleLr(p, unitPeak / peak), 1 / lossFactor));
  return { scaled, back };
}

const q = (p: ArrayLike<number>) => Array.from(p, (v, j) => (ON_LOG[j] ? Math.log(Math.max(v, 1e-12)) : v));
const unq = (v: number[]) => Float64Array.from(v, (x, j) => (ON_LOG[j] ? Math.exp(x) : x));

const PUBLISHED_PRIOR: ParamPrior[] = law.params.flatMap((p, index) => (MAP_PRIOR[p.name] ? [{ index, ...MAP_PRIOR[p.name]! }] : []));

/** LM from `init` under `priors` weighing k pseudo-points (strength set twice, as map.ts does). */
function lmUnderPrior(model: ReturnType<typeof logModel>, init: ArrayLike<number>, priors: ParamPrior[], k: number, fixed?: boolean[]): Float64Array {
  let total = 0;
  for (const w of model.weight) total += w;
  let params: Float64Array = Float64Array.from(init, (v, j) => Math.min(max[j]!, Math.max(min[j]!, v)));
  for (let pass = 0; pass < 2; pass++) {
    const objective = model.objective(params);
    const strength = Number.isFinite(objective) ? (k * 2 * objective) / total : 0;
    if (priors.length > 0 && !(strength > 0)) break;
    const r = levenbergMarquardtHuber(withPrior(model, priors, strength, HUBER_DELTA), params, { min, max, maxIterations: 200, delta: HUBER_DELTA, fixed });
    if (Number.isFinite(r.objective)) params = r.params;
  }
  return params;
}

interface Setup {
  model: ReturnType<typeof logModel>;
  scaled: PreparedCurve[];
  eq: PreparedCurve[];
  back: (p: ArrayLike<number>) => number[];
  reference: Float64Array;
}

function setup(curves: FitCurve[]): Setup {
  const prepared = curves.map((c) => prepareCurve(c, 0, DEFAULT_MAX_POINTS));
  const { scaled, back } = relativeUnits(prepared);
  const eq = scaled.length > 1 ? equalCurveWeights(scaled) : scaled;
  return { model: logModel(law, eq), scaled, eq, back, reference: fitReference(scaled).params };
}

const anchorPriors = (centre: ArrayLike<number>, widths: readonly number[]): ParamPrior[] =>
  widths.flatMap((width, index) => (width > 0 ? [{ index, centre: q(centre)[index]!, width, log: ON_LOG[index]! }] : []));

export type BenchProcedure = (curves: FitCurve[]) => number[];

/** Name -> procedure. Names are stable: fit-selection.json refers to them. */
export const BENCH_PROCEDURES: Record<string, BenchProcedure> = {};

for (const k of [1, 30, 300, 3000]) {
  BENCH_PROCEDURES[`anchor k=${k}`] = (curves) => {
    const s = setup(curves);
    return s.back(lmUnderPrior(s.model, s.reference, anchorPriors(s.reference, [1, 1, 1, 1, 1, 1, 1]), k));
  };
}
BENCH_PROCEDURES['anchor L0/A/alpha width 0.01 k=30'] = (curves) => {
  const s = setup(curves);
  return s.back(lmUnderPrior(s.model, s.reference, anchorPriors(s.reference, [0.01, 0.01, 0.01, 1, 1, 1, 1]), 30));
};
BENCH_PROCEDURES['freeze L0/A/alpha, map prior'] = (curves) => {
  const s = setup(curves);
  return s.back(lmUnderPrior(s.model, s.reference, PUBLISHED_PRIOR, 1, [true, true, true, false, false, false, false]));
};
for (const unitPeak of ['1e-4', '1e-3', '3e-3']) {
  BENCH_PROCEDURES[`reference, peak lr as ${unitPeak}`] = (curves) => {
    const { scaled, back } = relativeUnits(curves.map((c) => prepareCurve(c, 0, DEFAULT_MAX_POINTS)), Number(unitPeak));
    return back(fitReference(scaled).params);
  };
}
BENCH_PROCEDURES['blend t=0.75'] = (curves) => {
  const t = 0.75;
  const s = setup(curves);
  const m = fitMap(law, s.eq, s.model, { min, max, delta: HUBER_DELTA, priorWeight: 1 }).params;
  const a = q(s.reference);
  const b = q(m);
  return s.back(unq(a.map((v, j) => (1 - t) * v + t * b[j]!)));
};

/** map's start and prior (priorWeight w) with the params named in `held` kept at the simplified model's values. */
function mapHolding(curves: FitCurve[], held: readonly string[], w: number): number[] {
  const s = setup(curves);
  const simplified = referenceSimplifiedStart(simplifiedPoints(s.eq.map((c) => ({ lrs: c.curve.lrs, steps: c.steps, loss: Float64Array.from(c.logLoss, Math.exp) })))).params;
  const start = law.params.map((p, j) => {
    const prior = MAP_PRIOR[p.name];
    return prior ? (prior.log ? Math.exp(prior.centre) : prior.centre) : simplified[j]!;
  });
  return s.back(lmUnderPrior(s.model, start, PUBLISHED_PRIOR, w, law.params.map((p) => held.includes(p.name))));
}
for (const w of [1, 3, 10, 30, 100]) BENCH_PROCEDURES[`map, B held at the simplified start, w=${w}`] = (curves) => mapHolding(curves, ['B'], w);
for (const w of [3]) BENCH_PROCEDURES[`map, L0/A/alpha/B held at the simplified start, w=${w}`] = (curves) => mapHolding(curves, ['L0', 'A', 'alpha', 'B'], w);
for (const w of [3]) BENCH_PROCEDURES[`map, alpha/B held at the simplified start, w=${w}`] = (curves) => mapHolding(curves, ['alpha', 'B'], w);

/** map with priorWeight `w` on `curves` (relative units, curves weighted equally), as fitLaw runs it. */
function mapFit(curves: FitCurve[], w: number): number[] {
  const s = setup(curves);
  return s.back(fitMap(law, s.eq, s.model, { min, max, delta: HUBER_DELTA, priorWeight: w }).params);
}

/** The reference procedure in relative units on `curves`. */
function referenceFit(curves: FitCurve[]): number[] {
  const { scaled, back } = relativeUnits(curves.map((c) => prepareCurve(c, 0, DEFAULT_MAX_POINTS)));
  return back(fitReference(scaled).params);
}

/** Mean PredE of leave-one-curve-out predictions of `fit` over the fit curves. */
function leaveOneOutPredE(curves: FitCurve[], fit: (curves: FitCurve[]) => number[]): number {
  let total = 0;
  curves.forEach((curve, j) => {
    total += evaluateMetrics(law, fit(curves.filter((_, k) => k !== j)), curve).predE;
  });
  return total / curves.length;
}

for (const w of [1, 10]) {
  BENCH_PROCEDURES[`select by leave-one-out: reference or map w=${w}`] = (curves) => {
    const map = (cs: FitCurve[]) => mapFit(cs, w);
    if (curves.length < 2) return referenceFit(curves);
    return leaveOneOutPredE(curves, referenceFit) <= leaveOneOutPredE(curves, map) ? referenceFit(curves) : map(curves);
  };
}
