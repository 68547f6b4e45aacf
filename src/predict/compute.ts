/**
 * A prediction's answer from resolved inputs (law, params, schedule, steps): the part of /predict
 * that does the numeric work, so that it runs the same inline or on a worker thread
 * (src/workers/predict-worker.ts). Its input is plain data (structured-cloneable); the route
 * resolves fits and curves from the store and sizes the work first (budget.ts, limits.ts). With
 * `interval`, the answer also carries the prediction interval (compute-interval.ts).
 */
import { getLaw, type LawId } from '../laws/index.js';
import { evaluateMetrics } from '../fit/evaluate.js';
import { withLrSchedule } from '../curves/schedule.js';
import type { Curve } from '../store/types.js';
import { evenSteps, sampleSteps } from '../schedule/expand.js';
import { expandScheduleCached } from '../schedule/cache.js';
import { formatSchedule, parseSchedule, type ScheduleSpec } from '../schedule/spec.js';
import { predictionIntervalAnswer, type IntervalTask } from './compute-interval.js';

/** Default number of evenly spaced steps in a predicted curve (plus the last step). */
export const DEFAULT_POINTS = 500;

/** The fit a prediction's parameters came from. */
export interface FitInfo {
  id: number;
  maxLr: number;
  maxSteps: number;
}

/** A stored curve as a prediction compares with it. */
export type PredictCurve = Pick<Curve, 'id' | 'name' | 'points' | 'schedule' | 'warmupSteps'>;

/** Everything a prediction needs, resolved: exactly one of `spec` and `curve`; at most one of `steps` and `every`. */
export interface PredictTask {
  law: LawId;
  params: number[];
  lawOptions: Record<string, unknown>;
  fitInfo?: FitInfo;
  /** A spec as parsed by the grammar (an expr's f is compiled when it is expanded). */
  spec?: ScheduleSpec;
  curve?: PredictCurve;
  /** Steps already checked to lie in the schedule. */
  steps?: number[];
  every?: number;
  /** A prediction interval beside the loss (a stored fit's basis and the level). */
  interval?: IntervalTask;
}

/** The schedule: its lrs, its canonical spec (null for a curve without one) and the curve it came from. */
interface ScheduleChoice {
  lrs: Float64Array;
  scheduleText: string | null;
  curve?: PredictCurve & { lrSchedule: Float64Array };
}

function resolveSchedule(task: PredictTask): ScheduleChoice {
  if (task.spec) return { lrs: expandScheduleCached(task.spec), scheduleText: formatSchedule(task.spec) };
  const curve = withLrSchedule(task.curve!);
  // In the same canonical form as a given spec's echo.
  const scheduleText = curve.schedule === null ? null : formatSchedule(parseSchedule(curve.schedule));
  return { lrs: curve.lrSchedule, scheduleText, curve };
}

/** The first step whose lr sum S(s) is positive (lrs are >= 0): before it the laws predict an infinite loss. */
function firstLiveStep(lrs: Float64Array): number {
  const first = lrs.findIndex((lr) => lr > 0);
  return first < 0 ? lrs.length : first;
}

/** At which steps: steps=, every=N, the curve's own steps, or an even grid; `live` is the first step with S(s) > 0. */
function chooseSteps(task: PredictTask, lrs: Float64Array, curve: ScheduleChoice['curve']): { steps: number[]; live: number } {
  const total = lrs.length;
  // The default grids leave out the steps before any lr was applied (S(s) = 0, e.g. step 0 of a
  // warmup from 0), where the laws predict an infinite loss.
  const live = firstLiveStep(lrs);
  const fromLive = (grid: number[]) => (grid.some((s) => s >= live) ? grid.filter((s) => s >= live) : grid.slice(-1));
  let steps: number[];
  if (task.steps !== undefined) steps = task.steps;
  else if (task.every !== undefined) steps = fromLive(sampleSteps(total, task.every));
  else if (curve) steps = [...curve.points.steps];
  else steps = fromLive(evenSteps(total, DEFAULT_POINTS));
  return { steps, live };
}

/** Extrapolation beyond the fit's data, and non-finite predictions at `withFinal` (the requested steps and the last). */
function predictionWarnings(lrs: Float64Array, fitInfo: FitInfo | undefined, withFinal: number[], predicted: Float64Array, live: number): string[] {
  const total = lrs.length;
  const warnings: string[] = [];
  if (fitInfo) {
    let peak = 0;
    for (const lr of lrs) if (lr > peak) peak = lr;
    if (peak > fitInfo.maxLr * (1 + 1e-9)) {
      warnings.push(`the schedule's peak lr ${peak} exceeds the largest lr the fit saw (${fitInfo.maxLr}): an extrapolation`);
    }
    if (total > 4 * fitInfo.maxSteps) {
      warnings.push(`the schedule has ${total} steps, over 4x the longest fitted curve (${fitInfo.maxSteps}): an extrapolation`);
    }
  }
  // Non-finite predictions (null in the JSON) among the requested steps and the last step.
  const notFinite = withFinal.filter((_, i) => !Number.isFinite(predicted[i]!));
  const beforeLr = notFinite.filter((s) => s < live);
  if (beforeLr.length > 0) {
    warnings.push(`the loss is infinite (null) at ${beforeLr.length} step(s) before any lr was applied (S(s) = 0), from step ${beforeLr[0]}`);
  }
  const unsuited = notFinite.length - beforeLr.length;
  if (unsuited > 0) warnings.push(`the predicted loss is not finite (null) at ${unsuited} step(s): the parameters do not suit this schedule`);
  return warnings;
}

/** The predicted curve of a resolved request: the answer's body (the Prediction contract). */
export function computePrediction(task: PredictTask): Record<string, unknown> {
  const { params, lawOptions, fitInfo } = task;
  const law = getLaw(task.law);
  const { lrs, scheduleText, curve } = resolveSchedule(task);
  const total = lrs.length;
  const { steps, live } = chooseSteps(task, lrs, curve);
  const withFinal = steps[steps.length - 1] === total - 1 ? steps : [...steps, total - 1];

  const predicted = law.predict(lrs, withFinal, params, lawOptions);
  const interval = task.interval && predictionIntervalAnswer(law, task.interval, lawOptions, lrs, withFinal, predicted, steps.length);
  const answer: Record<string, unknown> = {
    law: task.law,
    params: Object.fromEntries(law.params.map((p, i) => [p.name, params[i]])),
    ...(fitInfo ? { fit: fitInfo.id } : {}),
    schedule: scheduleText,
    totalSteps: total,
    steps,
    loss: Array.from(predicted.subarray(0, steps.length)),
    ...(interval ? { lower: interval.lower, upper: interval.upper } : {}),
    final: { step: total - 1, loss: predicted[withFinal.length - 1]!, ...interval?.final },
    ...(interval ? { interval: interval.interval } : {}),
    warnings: [...predictionWarnings(lrs, fitInfo, withFinal, predicted, live), ...(interval?.warnings ?? [])],
  };
  if (curve) {
    const observed = { steps: Array.from(curve.points.steps), loss: Array.from(curve.points.losses) };
    answer.curve = curve.id;
    answer.observed = observed;
    answer.metrics = evaluateMetrics(law, params, { id: curve.id, name: curve.name, lrs, ...observed }, { lawOptions });
  }
  return answer;
}

/** The answer as UTF-8 JSON in a buffer of its own (transferable): non-finite losses become null. */
export function predictionJson(task: PredictTask): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(computePrediction(task)));
}
