/**
 * Per-step expansion: the learning rate of every step `s = 0 .. total-1` of a schedule.
 *
 * The formulas are those the fixtures were trained with (fixtures/README.md), written in
 * the same order of operations so values agree with the reference to the last bits.
 */
import { exprNames, parseSchedule, ScheduleError, type ExprSpec, type ScheduleSpec } from './spec.js';
import { compileExpr } from './expr.js';

/**
 * `a + (b - a) * num / den` for `0 <= num <= den`, in that order of operations, except that it is
 * exactly `b` at `num = den` (rounding could step past b, e.g. below a final lr of 0) and that a
 * product overflowing float64 (lrs near 1e308) is avoided by dividing first.
 */
export function lerp(a: number, b: number, num: number, den: number): number {
  if (num === den) return b;
  const value = a + ((b - a) * num) / den;
  return Number.isFinite(value) ? value : a + (b - a) * (num / den);
}

/**
 * `value` kept between `a` and `b`, where the exact value of a decay from a to b lies: rounding can
 * step past them by an ulp (halving a subnormal `peak - final` in a cosine gave lr -5e-324), and
 * only such values change.
 */
function within(value: number, a: number, b: number): number {
  const lo = a < b ? a : b;
  const hi = a < b ? b : a;
  return value < lo ? lo : value > hi ? hi : value;
}

/** Linear warmup from 0: `peak * s / (warmup - 1)`, reaching peak at step warmup-1 (huge peaks divided first). */
export function warmupLr(peak: number, warmup: number, s: number): number {
  if (warmup <= 1) return peak;
  const value = (peak * s) / (warmup - 1);
  return Number.isFinite(value) ? value : peak * (s / (warmup - 1));
}

function decayLr(spec: Exclude<ScheduleSpec, { family: 'piecewise' | 'expr' }>, s: number): number {
  const { peak, total, warmup } = spec;
  switch (spec.family) {
    case 'constant':
      return peak;
    case 'cosine': {
      const { final } = spec;
      return within(final + 0.5 * (peak - final) * (1 + Math.cos((Math.PI * (s - warmup)) / (total - warmup))), peak, final);
    }
    case 'linear': {
      const span = total - 1 - warmup;
      return span <= 0 ? peak : lerp(peak, spec.final, s - warmup, span);
    }
    case 'wsd': {
      const { decayStart, final } = spec;
      if (s < decayStart) return peak;
      const span = total - decayStart;
      switch (spec.shape) {
        case 'exp':
          return within(peak ** ((total - s) / span) * final ** ((s - decayStart) / span), peak, final);
        case 'linear':
          return lerp(peak, final, s - decayStart, span);
        case 'cosine':
          return within(final + 0.5 * (peak - final) * (1 + Math.cos((Math.PI * (s - decayStart)) / span)), peak, final);
        case 'sqrt':
          return within(final + (peak - final) * (1 - Math.sqrt((s - decayStart) / span)), peak, final);
      }
      break;
    }
    case 'step': {
      let lr = peak;
      for (let i = 0; i < spec.at.length && s >= spec.at[i]!; i++) lr = spec.to[i]!;
      return lr;
    }
  }
  throw new Error('unreachable');
}

/**
 * Linear interpolation between knots `(steps[i], values[i])` at every step `0 .. length-1`
 * (steps strictly increasing from 0): the piecewise family's per-step values.
 */
export function interpolateKnots(steps: ArrayLike<number>, values: ArrayLike<number>, length: number): Float64Array {
  const out = new Float64Array(length);
  out[0] = values[0]!;
  for (let i = 0; i + 1 < steps.length; i++) {
    const s0 = steps[i]!;
    const s1 = steps[i + 1]!;
    const v0 = values[i]!;
    const v1 = values[i + 1]!;
    for (let s = s0; s <= s1; s++) out[s] = lerp(v0, v1, s - s0, s1 - s0);
  }
  return out;
}

/**
 * The expr family: the usual warmup, then `f(s)` from step `warmup` on. A value that is not a
 * finite number >= 0 is refused (ScheduleError on key `f`) at the first step that gives one.
 */
function expandExpr(spec: ExprSpec): Float64Array {
  const f = compileExpr(spec.f, exprNames(spec));
  const { peak, total, warmup } = spec;
  const lrs = new Float64Array(total);
  for (let s = 0; s < warmup; s++) lrs[s] = warmupLr(peak, warmup, s);
  for (let s = warmup; s < total; s++) {
    const lr = f(s);
    // NaN fails both tests; -0 becomes 0.
    if (!(lr >= 0 && lr < Infinity)) {
      throw new ScheduleError(`f gives lr=${lr} at step ${s}: learning rates must be finite and >= 0`, 'f');
    }
    lrs[s] = lr + 0;
  }
  return lrs;
}

/** Per-step learning rates of a parsed spec or spec string, as float64. */
export function expandSchedule(input: ScheduleSpec | string): Float64Array {
  const spec = typeof input === 'string' ? parseSchedule(input) : input;
  if (spec.family === 'piecewise') return interpolateKnots(spec.knots, spec.values, spec.total);
  if (spec.family === 'expr') return expandExpr(spec);
  const lrs = new Float64Array(spec.total);
  for (let s = 0; s < spec.total; s++) {
    lrs[s] = s < spec.warmup ? warmupLr(spec.peak, spec.warmup, s) : decayLr(spec, s);
  }
  return lrs;
}

/** The lr of a piecewise spec at step `s`: linear between the knots around it (knots strictly increasing from 0). */
function knotLrAt(knots: ArrayLike<number>, values: ArrayLike<number>, s: number): number {
  let lo = 0;
  let hi = knots.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (knots[mid]! <= s) lo = mid;
    else hi = mid;
  }
  if (s >= knots[hi]!) return values[hi]!;
  return lerp(values[lo]!, values[hi]!, s - knots[lo]!, knots[hi]! - knots[lo]!);
}

/**
 * The lrs of a spec at `steps` only (each in 0..total-1), equal to `expandSchedule(spec)` there: the
 * closed forms and piecewise are evaluated at those steps alone, so sampling a 10,000,000-step spec
 * costs its samples, not its length; `expr` is expanded whole (its f is checked at every step).
 */
export function lrsAtSteps(spec: ScheduleSpec, steps: readonly number[]): Float64Array {
  if (spec.family === 'expr') {
    const all = expandExpr(spec);
    return Float64Array.from(steps, (s) => all[s]!);
  }
  if (spec.family === 'piecewise') return Float64Array.from(steps, (s) => knotLrAt(spec.knots, spec.values, s));
  return Float64Array.from(steps, (s) => (s < spec.warmup ? warmupLr(spec.peak, spec.warmup, s) : decayLr(spec, s)));
}

/** Steps `0, every, 2*every, ...` plus the last step, for sampling a curve of `total` steps. */
export function sampleSteps(total: number, every: number): number[] {
  const steps: number[] = [];
  for (let s = 0; s < total; s += every) steps.push(s);
  if (steps[steps.length - 1] !== total - 1) steps.push(total - 1);
  return steps;
}

/** How many steps `every=N` picks from a `total`-step schedule (as sampleSteps: 0, N, 2N, ... and the last). */
export function sampledCount(total: number, every: number): number {
  const picked = Math.ceil(total / every);
  return (picked - 1) * every === total - 1 ? picked : picked + 1;
}

/** The smallest `every` that picks at most `points` steps of a `total`-step schedule (every=total picks 2: the first and the last). */
export function everyFor(total: number, points: number): number {
  if (points < 2) return total;
  let every = Math.max(1, Math.ceil(total / Math.max(1, points - 1)));
  while (every > 1 && sampledCount(total, every - 1) <= points) every--;
  while (sampledCount(total, every) > points) every++;
  return every;
}

/** About `count` evenly spaced steps of a `total`-step run, always including the last. */
export function evenSteps(total: number, count = 500): number[] {
  return sampleSteps(total, Math.max(1, Math.ceil(total / count)));
}
