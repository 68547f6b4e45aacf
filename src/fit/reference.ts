/**
 * The published reference fitting procedure of the multi-power law, reproduced step by step (the code
 * released with Luo et al. 2025, "A Multi-Power Law for Loss Curve Prediction Across Learning Rate
 * Schedules", MIT License, Copyright (c) 2025 Kairong Luo). On the fixtures' 3-curve protocol it gives
 * the published params within 3e-6 relative, and so the published test table at its printed digits.
 *
 * 1. Start. m = the minimum loss; least squares of log(loss - m + 0.01) on log(S1) over all points
 *    gives slope and intercept. 135 starts: L0 in linspace(m - 0.2, m + 0.2, 5), A in
 *    linspace(e^intercept - 0.1, e^intercept + 0.1, 3), alpha in linspace(-slope - 0.1, -slope + 0.1, 3),
 *    B in {100, 550, 1000}. Each start minimizes the summed Huber (delta 1e-3) of log residuals of the
 *    simplified model L0 + A S1^-alpha - B (peak - lr[step]) with every param >= 0 (the reference runs
 *    scipy's L-BFGS-B, ftol 1e-9, gtol 1e-6, finite-difference gradients; here damped Newton on the
 *    exact Hessian, `simplifiedNewton`, which reaches the same minimum: every start lands on it, and
 *    the params after step 2 differ by about 1e-6 relative between the two), and the
 *    start with the lowest objective is kept (the first one on ties, loops nested L0, A, alpha, B).
 * 2. AdamW in float64 (torch.optim.AdamW semantics: p *= 1 - lr wd, then the bias-corrected Adam step
 *    with denominator sqrt(v)/sqrt(1 - beta2^t) + eps) from [L0, A, alpha, B] of that start and C = 1,
 *    beta = 0.5, gamma = 0.5; learning rate 5e-2 for L0, A, B, C and 5e-3 for alpha, beta, gamma; betas
 *    (0.9, 0.999), eps 1e-8, weight decay 0.01 on every param. Objective: Huber (1e-3) of
 *    log(loss) - log(max(pred, 1e-10)), summed over every raw point of every curve (no binning, no
 *    curve weighting), the losses rounded to float32 first as the reference's tensors hold them (this
 *    moves the result by about 1e-7 relative; the start in step 1 uses the float64 losses). Averaging
 *    instead of summing gives params up to 8e-2 off the published ones: not the reference.
 * 3. At most 200 iterations i = 0, 1, ...: the loss and gradient at the current params, the AdamW step,
 *    then the count of iterations without a new minimum of that pre-step loss; stop when i > 20 and the
 *    count reaches 20, or when the pre-step gradient norm is below 1e-5; otherwise a new minimum is
 *    recorded with the params *after* the step. That pairing is the reference's quirk, kept because
 *    the published params come from it (the pre-step params are 3.7e-3 relative off them). The recorded params are returned (about 100 iterations on the
 *    fixtures).
 *
 * S1 and lr follow the law's conventions (mpl.ts): lrs indexed by step from 0 with the warmup,
 * S1(s) = sum_{i<=s} lr[i]; peak = the largest lr of the curve's schedule.
 */
import { cumulativeLr, mplLaw } from '../laws/mpl/index.js';
import { cholesky, choleskySolve } from './dense.js';
import { huberObjective } from './objective.js';
import { usablePoints, type PreparedCurve } from './prepare.js';
import type { FitCurve } from './types.js';

export const REFERENCE = {
  huberDelta: 1e-3,
  /** AdamW learning rates of [L0, A, alpha, B, C, beta, gamma]. */
  learningRates: [5e-2, 5e-2, 5e-3, 5e-2, 5e-2, 5e-3, 5e-3],
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  maxIterations: 200,
  /** Stop when this many iterations (and more than `minIterations`) set no new minimum. */
  patience: 20,
  minIterations: 20,
  gradientTolerance: 1e-5,
  /** Initial C, beta, gamma of the AdamW stage. */
  initialDrop: [1, 0.5, 0.5],
  B: [100, 550, 1000],
} as const;

export interface ReferenceOptions {
  /** Ignore points before this step (the reference's data start after warmup). */
  fromStep?: number;
  /** Called after every AdamW iteration with its index (progress). */
  onIteration?: (iteration: number) => void;
}

export interface ReferenceResult {
  /** [L0, A, alpha, B, C, beta, gamma] */
  params: Float64Array;
  /** The reference's objective (summed Huber, float32 losses) at the returned params. */
  objective: number;
  /** AdamW iterations run. */
  iterations: number;
  /** Stopped by its own rule (no new minimum for 20 iterations, or a vanishing gradient) with a finite objective. */
  converged: boolean;
  /** The simplified-model fit that started AdamW: [L0, A, alpha, B] and its objective. */
  start: { params: Float64Array; objective: number };
  /** Raw points used over all curves. */
  points: number;
  notes: string[];
}

/** The fit's points: S1 and peak - lr at each, and the loss. */
export interface Points {
  S1: Float64Array;
  /** peak - lr[step] */
  drop: Float64Array;
  loss: Float64Array;
}

/** Every usable raw point (unbinned) of the curves, concatenated, with S1 and peak - lr at each. */
function collectPoints(curves: FitCurve[], fromStep: number): { points: Points; perCurve: { curve: FitCurve; steps: number[]; loss: number[] }[] } {
  const perCurve = curves.map((curve) => ({ curve, ...usablePoints(curve, fromStep) }));
  return { points: simplifiedPoints(perCurve.map((c) => ({ lrs: c.curve.lrs, steps: c.steps, loss: c.loss }))), perCurve };
}

/**
 * The simplified model's columns at the given points of each curve, concatenated: S1, peak - lr (the
 * peak of that curve's schedule) and the loss. Method map starts from the same model on its prepared points.
 */
export function simplifiedPoints(curves: readonly { lrs: Float64Array; steps: readonly number[]; loss: ArrayLike<number> }[]): Points {
  const n = curves.reduce((t, c) => t + c.steps.length, 0);
  const S1 = new Float64Array(n);
  const drop = new Float64Array(n);
  const loss = new Float64Array(n);
  let at = 0;
  for (const { lrs, steps, loss: y } of curves) {
    const cum = cumulativeLr(lrs);
    let peak = -Infinity;
    for (const v of lrs) if (v > peak) peak = v;
    steps.forEach((s, i) => {
      S1[at + i] = cum[s]!;
      drop[at + i] = peak - lrs[s]!;
      loss[at + i] = y[i]!;
    });
    at += steps.length;
  }
  return { S1, drop, loss };
}

/** The simplified model's data: log loss, log S1 and peak - lr per point. */
interface Simplified {
  n: number;
  logY: Float64Array;
  logS: Float64Array;
  drop: Float64Array;
}

/** Summed Huber of log(loss) - log(max(pred, 1e-10)) of the simplified model L0 + A S1^-alpha - B (peak - lr). */
function simplifiedObjective(sm: Simplified, L0: number, A: number, alpha: number, B: number, power: Float64Array, raw: Float64Array, residual: Float64Array): number {
  const delta = REFERENCE.huberDelta;
  let total = 0;
  for (let i = 0; i < sm.n; i++) {
    const pw = Math.exp(-alpha * sm.logS[i]!);
    const r = L0 + A * pw - B * sm.drop[i]!;
    power[i] = pw;
    raw[i] = r;
    const e = sm.logY[i]! - Math.log(r > 1e-10 ? r : 1e-10);
    residual[i] = e;
    const a = Math.abs(e);
    total += a <= delta ? 0.5 * e * e : delta * (a - 0.5 * delta);
  }
  return Number.isNaN(total) ? Infinity : total;
}

/**
 * Minimize the simplified model's objective from `init` with every param >= 0: Newton steps on the
 * exact Hessian of the Huber objective (Marquardt-damped until positive definite and the objective
 * decreases; steps clamped at 0), to a relative decrease below 1e-13. Four params, so the Hessian is
 * cheap, and the convergence quadratic where scipy's L-BFGS-B (the reference's choice) is superlinear:
 * both reach the same minimum.
 */
function simplifiedNewton(sm: Simplified, init: readonly number[]): { params: Float64Array; objective: number; iterations: number } {
  const delta = REFERENCE.huberDelta;
  const p = Float64Array.from(init, (v) => Math.max(0, v));
  // S1^-alpha, the prediction and the log residual at the current point and at the trial point (reused once accepted).
  let power = new Float64Array(sm.n);
  let raw = new Float64Array(sm.n);
  let trialPower = new Float64Array(sm.n);
  let trialRaw = new Float64Array(sm.n);
  let residual = new Float64Array(sm.n);
  let trialResidual = new Float64Array(sm.n);
  let f = simplifiedObjective(sm, p[0]!, p[1]!, p[2]!, p[3]!, power, raw, residual);
  const g = new Float64Array(4);
  const H = new Float64Array(16);
  const damped = new Float64Array(16);
  const u = new Float64Array(4);
  const trial = new Float64Array(4);
  let mu = 1e-3;
  let iterations = 0;
  if (!Number.isFinite(f)) return { params: p, objective: f, iterations };
  for (; iterations < 100; iterations++) {
    const A = p[1]!;
    g.fill(0);
    H.fill(0);
    for (let i = 0; i < sm.n; i++) {
      const logS = sm.logS[i]!;
      const pw = power[i]!;
      const r = raw[i]!;
      if (!(r > 1e-10)) continue; // the 1e-10 floor: no gradient
      const e = residual[i]!;
      const inside = Math.abs(e) <= delta;
      const psi = inside ? e : e > 0 ? delta : -delta;
      const q = 1 / r;
      u[0] = q;
      u[1] = pw * q;
      u[2] = -A * logS * pw * q;
      u[3] = -sm.drop[i]! * q;
      // f = sum h(e), e = log y - log p: grad = -psi u, Hessian = (h'' + psi) u u^T - psi (d2 p) / p.
      const c = (inside ? 1 : 0) + psi;
      for (let a = 0; a < 4; a++) {
        g[a] = g[a]! - psi * u[a]!;
        for (let b = 0; b <= a; b++) H[a * 4 + b] = H[a * 4 + b]! + c * u[a]! * u[b]!;
      }
      // d2p/dA dalpha = -logS power, d2p/dalpha2 = A logS^2 power.
      H[2 * 4 + 1] = H[2 * 4 + 1]! + psi * logS * pw * q;
      H[2 * 4 + 2] = H[2 * 4 + 2]! - psi * A * logS * logS * pw * q;
    }
    for (let a = 0; a < 4; a++) for (let b = 0; b < a; b++) H[b * 4 + a] = H[a * 4 + b]!;
    // Projected Newton: a param at its bound 0 whose gradient pushes it below stays there this step.
    let scale = 0;
    for (let a = 0; a < 4; a++) {
      if (p[a] === 0 && g[a]! > 0) {
        for (let b = 0; b < 4; b++) H[a * 4 + b] = H[b * 4 + a] = 0;
        H[a * 5] = 1;
        g[a] = 0;
      }
      scale = Math.max(scale, Math.abs(H[a * 5]!));
    }
    let accepted = false;
    let ft = f;
    while (mu < 1e16) {
      damped.set(H);
      // Marquardt damping, floored so a vanishing diagonal entry (alpha while A = 0) is damped too.
      for (let a = 0; a < 4; a++) damped[a * 5] = H[a * 5]! + mu * Math.max(Math.abs(H[a * 5]!), 1e-10 * scale, 1e-300);
      const L = cholesky(damped, 4);
      if (!L) {
        mu = Math.max(mu * 10, 1e-12);
        continue;
      }
      const step = choleskySolve(L, 4, g);
      for (let a = 0; a < 4; a++) trial[a] = Math.max(0, p[a]! - step[a]!);
      ft = simplifiedObjective(sm, trial[0]!, trial[1]!, trial[2]!, trial[3]!, trialPower, trialRaw, trialResidual);
      if (ft < f) {
        accepted = true;
        [power, trialPower] = [trialPower, power];
        [raw, trialRaw] = [trialRaw, raw];
        [residual, trialResidual] = [trialResidual, residual];
        mu = Math.max(mu / 3, 1e-12);
        break;
      }
      if (ft === f && trial.every((v, a) => v === p[a])) break;
      mu *= 4;
    }
    if (!accepted) break;
    const decrease = f - ft;
    p.set(trial);
    f = ft;
    if (decrease <= 1e-13 * f) {
      iterations++;
      break;
    }
  }
  return { params: p, objective: f, iterations };
}

const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, k) => a + ((b - a) * k) / (n - 1));

/** Step 1: the grid of 135 starts of the simplified model, each minimized; the lowest. */
export function referenceSimplifiedStart(points: Points): { params: Float64Array; objective: number; grid: number } {
  const { S1, loss } = points;
  const N = loss.length;
  let m = Infinity;
  for (const y of loss) if (y < m) m = y;
  // Least squares line of log(loss - m + 0.01) on log(S1).
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < N; i++) {
    sx += Math.log(S1[i]!);
    sy += Math.log(loss[i]! - m + 0.01);
  }
  const mx = sx / N;
  const my = sy / N;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < N; i++) {
    const dx = Math.log(S1[i]!) - mx;
    sxx += dx * dx;
    sxy += dx * (Math.log(loss[i]! - m + 0.01) - my);
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const sm: Simplified = { n: N, logY: Float64Array.from(loss, Math.log), logS: Float64Array.from(S1, Math.log), drop: points.drop };
  let best: { params: Float64Array; objective: number } | null = null;
  let grid = 0;
  for (const L0 of linspace(m - 0.2, m + 0.2, 5)) {
    for (const A of linspace(Math.exp(intercept) - 0.1, Math.exp(intercept) + 0.1, 3)) {
      for (const alpha of linspace(-slope - 0.1, -slope + 0.1, 3)) {
        for (const B of REFERENCE.B) {
          grid++;
          const fit = simplifiedNewton(sm, [L0, A, alpha, B]);
          if (Number.isFinite(fit.objective) && (!best || fit.objective < best.objective)) best = { params: fit.params, objective: fit.objective };
        }
      }
    }
  }
  return { ...(best ?? { params: Float64Array.from([m, Math.exp(intercept), -slope, REFERENCE.B[0]]), objective: NaN }), grid };
}

/** Curves as given to the fit: FitCurves, or PreparedCurves (their raw points are taken again, unbinned). */
type CurveInput = FitCurve | PreparedCurve;
const rawCurve = (c: CurveInput): FitCurve => ('curve' in c && 'logLoss' in c ? c.curve : (c as FitCurve));

/** Params of the AdamW stage: [L0, A, alpha, B, C, beta, gamma]. */
const PARAMS = 7;

/**
 * The reference's objective at `p` (summed Huber of log(loss) - log(max(pred, 1e-10)) over every raw
 * point) and its gradient, written into `grad`.
 */
function referenceLossAndGradient(perCurve: { curve: FitCurve; steps: number[] }[], logObserved: Float64Array[], p: Float64Array, grad: Float64Array): number {
  const P = PARAMS;
  const delta = REFERENCE.huberDelta;
  grad.fill(0);
  let total = 0;
  perCurve.forEach((c, k) => {
    if (c.steps.length === 0) return;
    const { pred, jacobian } = mplLaw.predictWithJacobian(c.curve.lrs, c.steps, p);
    const obs = logObserved[k]!;
    for (let i = 0; i < pred.length; i++) {
      const raw = pred[i]!;
      const clamped = raw > 1e-10 ? raw : 1e-10;
      const e = obs[i]! - Math.log(clamped);
      const a = Math.abs(e);
      total += a <= delta ? 0.5 * e * e : delta * (a - 0.5 * delta);
      if (!(raw > 1e-10)) continue; // max(pred, 1e-10): no gradient through the floor (NaN stays NaN in the total)
      const psi = (e > delta ? delta : e < -delta ? -delta : e) / clamped;
      const row = i * P;
      for (let j = 0; j < P; j++) grad[j] = grad[j]! - psi * jacobian[row + j]!;
    }
  });
  return total;
}

/** One torch.optim.AdamW step (t counts from 1) of `params` along `grad`, updating the moments `m` and `v` in place. */
function adamWStep(params: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array, t: number): void {
  const { learningRates: lr, beta1, beta2, eps, weightDecay } = REFERENCE;
  const bc1 = 1 - beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  for (let j = 0; j < PARAMS; j++) {
    const g = grad[j]!;
    params[j] = params[j]! * (1 - lr[j]! * weightDecay);
    m[j] = m[j]! + (g - m[j]!) * (1 - beta1);
    v[j] = v[j]! * beta2 + (1 - beta2) * g * g;
    params[j] = params[j]! - (lr[j]! / bc1) * (m[j]! / (Math.sqrt(v[j]!) / bc2Sqrt + eps));
  }
}

/** The reference procedure on `curves` (see the file comment). Never throws for numerical trouble (a RangeError only without usable points). */
export function fitReference(curvesIn: CurveInput[], options: ReferenceOptions = {}): ReferenceResult {
  const curves = curvesIn.map(rawCurve);
  const { points, perCurve } = collectPoints(curves, options.fromStep ?? 0);
  if (points.loss.length === 0) throw new RangeError('fitReference needs at least one usable point');
  const notes: string[] = [];
  const start = referenceSimplifiedStart(points);
  notes.push(
    `reference start: simplified model L0 + A S1^-alpha - B (peak - lr) fitted from ${start.grid} grid starts, best [${Array.from(start.params, (v) => v.toPrecision(6)).join(', ')}] (objective ${start.objective.toPrecision(4)})`,
  );

  const P = PARAMS;
  const logObserved = perCurve.map((c) => Float64Array.from(c.loss, (y) => Math.log(Math.fround(y))));
  const params = Float64Array.from([...start.params, ...REFERENCE.initialDrop]);
  const m = new Float64Array(P);
  const v = new Float64Array(P);
  const grad = new Float64Array(P);
  let bestLoss = Infinity;
  let bestParams = Float64Array.from(params);
  let sinceBest = 0;
  let iterations = 0;
  let stopped: 'patience' | 'gradient' | 'budget' | 'non-finite' = 'budget';

  for (let i = 0; i < REFERENCE.maxIterations; i++) {
    const loss = referenceLossAndGradient(perCurve, logObserved, params, grad);
    let norm2 = 0;
    for (let j = 0; j < P; j++) norm2 += grad[j]! * grad[j]!;
    const t = i + 1;
    adamWStep(params, grad, m, v, t);
    iterations = t;
    options.onIteration?.(i);
    const improved = loss < bestLoss;
    sinceBest = improved ? 0 : sinceBest + 1;
    if (i > REFERENCE.minIterations && sinceBest >= REFERENCE.patience) {
      stopped = 'patience';
      break;
    }
    if (Math.sqrt(norm2) < REFERENCE.gradientTolerance) {
      stopped = 'gradient';
      break;
    }
    if (improved) {
      bestLoss = loss;
      bestParams = Float64Array.from(params);
    }
    // Non-finite params never set a new minimum again: the reference would idle out its patience.
    if (!params.every(Number.isFinite)) {
      stopped = 'non-finite';
      break;
    }
  }

  const objective = referenceObjective(perCurve, logObserved, bestParams);
  const converged = (stopped === 'patience' || stopped === 'gradient') && Number.isFinite(objective);
  const why = {
    patience: `no new minimum in ${REFERENCE.patience} iterations`,
    gradient: `gradient norm below ${REFERENCE.gradientTolerance}`,
    budget: `the ${REFERENCE.maxIterations}-iteration budget ran out`,
    'non-finite': 'the params became non-finite',
  }[stopped];
  notes.push(
    `reference AdamW: ${iterations} iterations from C=1, beta=0.5, gamma=0.5 (stopped: ${why}); params recorded after the step that followed the lowest loss, as the reference does; ${points.loss.length} raw points, losses rounded to float32`,
  );
  return { params: bestParams, objective, iterations, converged, start: { params: start.params, objective: start.objective }, points: points.loss.length, notes };
}

function referenceObjective(perCurve: { curve: FitCurve; steps: number[] }[], logObserved: Float64Array[], params: Float64Array): number {
  let total = 0;
  perCurve.forEach((c, k) => {
    if (c.steps.length === 0) return;
    const pred = mplLaw.predict(c.curve.lrs, c.steps, params);
    const logPred = Float64Array.from(pred, (p) => Math.log(p > 1e-10 ? p : 1e-10));
    total += huberObjective(logObserved[k]!, logPred, new Float64Array(pred.length).fill(1), REFERENCE.huberDelta);
  });
  return total;
}
