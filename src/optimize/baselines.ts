/**
 * Reference schedules under the same law and constraints, evaluated in float64 by predictMpl:
 * cosine to 0.1 x peak, linear to zero (or to the floor), constant, and the best WSD over decay
 * fractions 5% .. 50% of the run and shapes exp (to 0.1 x peak), linear and sqrt (to the floor).
 * A given final lr replaces those end values; a minimum lr raises them to it.
 *
 * After a fixed prefix (a run so far) every baseline keeps the prefix and starts its decay (or
 * its constant) from the prefix's last lr: cosine, linear and constant over the rest, WSD with decay
 * starts at the same fractions of the whole run (those after the prefix, else right after it).
 * Their `schedule` is then the spec of the rest, whose step 0 is the first step after the prefix.
 *
 * Linear to zero ends at lr 0, where the law's lr^(-gamma) is infinite: src/laws/mpl.ts takes the
 * limit (the last step's term is 0 while S(s) = S(k-1)), which is also the value the formula tends
 * to as lr -> 0, so the baseline is evaluated exactly without clamping.
 */
import { predictMpl } from '../laws/mpl.js';
import { expandSchedule } from '../schedule/expand.js';

export interface Baseline {
  schedule: string;
  loss: number;
  /** With an interval (answer-interval.ts): the bounds of `loss` at its level; NaN (null) where it has none. */
  lower?: number;
  upper?: number;
}

export interface Baselines {
  cosine: Baseline;
  linear: Baseline;
  wsd: Baseline;
  constant: Baseline;
}

export interface BaselineRequest {
  params: readonly number[];
  totalSteps: number;
  peakLr: number;
  warmupSteps: number;
  minLr: number;
  finalLr?: number;
  /** The fixed leading lrs of a run so far (absent: the warmup of warmupSteps). */
  fixedLrs?: Float64Array;
}

export const WSD_FRACTIONS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5];
export const WSD_SHAPES_BASELINE = ['exp', 'linear', 'sqrt'] as const;
/** Full-length float64 evaluations `computeBaselines` makes at most (its time is about this many `predictMpl` calls). */
export const BASELINE_EVALUATIONS = 3 + WSD_FRACTIONS.length * WSD_SHAPES_BASELINE.length;

/** Final-step loss of a schedule spec (float64). */
export function finalLoss(spec: string, params: readonly number[]): number {
  const lrs = expandSchedule(spec);
  return predictMpl(lrs, [lrs.length - 1], params)[0]!;
}

/** The whole run's lrs of a baseline: its spec, after the fixed prefix when there is one (then the spec is of the rest). */
export function baselineRunLrs(spec: string, fixedLrs?: Float64Array): Float64Array {
  const rest = expandSchedule(spec);
  if (!fixedLrs) return rest;
  const lrs = new Float64Array(fixedLrs.length + rest.length);
  lrs.set(fixedLrs);
  lrs.set(rest, fixedLrs.length);
  return lrs;
}

/** Final-step loss of `prefix` followed by the schedule `restSpec` (float64). */
export function finalLossAfter(prefix: Float64Array, restSpec: string, params: readonly number[]): number {
  const lrs = baselineRunLrs(restSpec, prefix);
  return predictMpl(lrs, [lrs.length - 1], params)[0]!;
}

/** Where the baselines start: the spec head (whole run, or the rest after a prefix), its level and the first step a decay may start at. */
function baselineFrame(req: BaselineRequest): { head: string; level: number; offset: number; evaluate: (spec: string) => number } {
  const { params, totalSteps: T, peakLr: peak, warmupSteps: W, fixedLrs } = req;
  if (!fixedLrs) return { head: `peak=${peak},warmup=${W},total=${T}`, level: peak, offset: 0, evaluate: (spec) => finalLoss(spec, params) };
  const P = fixedLrs.length;
  const level = fixedLrs[P - 1]!;
  return { head: `peak=${level},warmup=0,total=${T - P}`, level, offset: P, evaluate: (spec) => finalLossAfter(fixedLrs, spec, params) };
}

export function computeBaselines(req: BaselineRequest): Baselines {
  const { totalSteps: T, peakLr: peak, warmupSteps: W, minLr } = req;
  const { head, level, offset, evaluate } = baselineFrame(req);
  // Ends never above the level a baseline decays from (a run so far may be below the peak).
  const tenth = Math.min(level, req.finalLr ?? Math.max(Number((0.1 * peak).toPrecision(12)), minLr));
  const floor = Math.min(level, req.finalLr ?? minLr);
  const make = (schedule: string): Baseline => ({ schedule, loss: evaluate(schedule) });
  const cosine = make(`cosine:${head},final=${tenth}`);
  const linear = make(`linear:${head},final=${floor}`);
  const constant = make(`constant:${head}`);
  let wsd: Baseline | undefined;
  const starts = new Set<number>();
  for (const fraction of WSD_FRACTIONS) {
    // A step of the whole run, after the warmup or the prefix; then in the frame of the spec.
    const decayStart = Math.min(T - 1, Math.max(offset > 0 ? offset : W, T - Math.round(fraction * T))) - offset;
    if (starts.has(decayStart)) continue;
    starts.add(decayStart);
    for (const shape of WSD_SHAPES_BASELINE) {
      const final = shape === 'exp' ? tenth : floor;
      if (shape === 'exp' && final <= 0) continue;
      const candidate = make(`wsd:${head},decayStart=${decayStart},final=${final},shape=${shape}`);
      if (!wsd || candidate.loss < wsd.loss) wsd = candidate;
    }
  }
  return { cosine, linear, wsd: wsd ?? constant, constant };
}
