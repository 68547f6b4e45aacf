/**
 * Appending points to a stored curve (a live run logging as it trains). A batch is checked like an
 * upload's points (validatePoints, after sorting it: batches may arrive out of order), then merged
 * with the stored points by step: a step already stored with the same values is unchanged (so a
 * client may resend a batch after a timeout), one stored with other values is a 409 naming it. The
 * merged curve must still pass the upload's schedule checks. Any refusal stores nothing: the merge
 * runs inside the store's write transaction (CurvesRepository.updatePoints).
 */
import { HttpProblem } from '../errors.js';
import type { Curve } from '../store/types.js';
import { MAX_POINTS, validatePoints, type PointColumns } from './points.js';
import { checkScheduleNotAllZero, curveSchedule } from './schedule.js';

/** What an append did. */
export interface AppendOutcome {
  added: number;
  unchanged: number;
}

/** A batch sorted by step, each point remembering its index in the request (for error fields). */
interface SortedBatch {
  points: PointColumns;
  requestIndex: Int32Array;
}

/** `points[k]` of the sorted batch renamed to the request's own index, so errors name what the client sent. */
function renameField(error: unknown, requestIndex: Int32Array): unknown {
  if (!(error instanceof HttpProblem) || error.field === undefined) return error;
  const m = /^points\[(\d+)\](.*)$/.exec(error.field);
  if (!m) return error;
  const field = `points[${requestIndex[Number(m[1])]}]${m[2]}`;
  return new HttpProblem(error.status, error.message.replace(`points[${m[1]}]`, field), field);
}

/** Same lr: both unlogged (NaN), or equal. */
const sameLr = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || a === b;
const lrAt = (lrs: Float64Array | null, i: number) => (lrs ? lrs[i]! : NaN);
const describe = (loss: number, lr: number) => `loss ${loss}${Number.isNaN(lr) ? '' : `, lr ${lr}`}`;

/**
 * The batch sorted by step and checked as an upload's points are; a step given twice in the batch
 * with the same values counts once, with other values it is a 400 naming the second one.
 */
export function sortBatch(batch: PointColumns): SortedBatch {
  const n = batch.steps.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => batch.steps[a]! - batch.steps[b]! || a - b);
  const kept: number[] = [];
  for (const i of order) {
    const prev = kept[kept.length - 1];
    if (prev !== undefined && batch.steps[prev] === batch.steps[i]) {
      if (batch.losses[prev] === batch.losses[i] && sameLr(lrAt(batch.lrs, prev), lrAt(batch.lrs, i))) continue;
      throw new HttpProblem(400, `step ${batch.steps[i]} is given twice in the batch with different values (points[${prev}] and points[${i}])`, `points[${i}].step`);
    }
    kept.push(i);
  }
  const points: PointColumns = {
    steps: Float64Array.from(kept, (i) => batch.steps[i]!),
    losses: Float64Array.from(kept, (i) => batch.losses[i]!),
    lrs: batch.lrs ? Float64Array.from(kept, (i) => batch.lrs![i]!) : null,
  };
  const requestIndex = Int32Array.from(kept);
  try {
    validatePoints(points);
  } catch (error) {
    throw renameField(error, requestIndex);
  }
  return { points, requestIndex };
}

/** First index in sorted `steps` whose step is >= `step`. */
function lowerBound(steps: Float64Array, step: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The stored points and the batch merged by step; 409 naming the first batch point that contradicts a stored one. */
function mergePoints(stored: PointColumns, batch: SortedBatch, outcome: AppendOutcome): PointColumns {
  const { points, requestIndex } = batch;
  const fresh: number[] = [];
  for (let k = 0; k < points.steps.length; k++) {
    const step = points.steps[k]!;
    const at = lowerBound(stored.steps, step);
    if (at < stored.steps.length && stored.steps[at] === step) {
      const [loss, lr] = [points.losses[k]!, lrAt(points.lrs, k)];
      const [storedLoss, storedLr] = [stored.losses[at]!, lrAt(stored.lrs, at)];
      if (loss === storedLoss && sameLr(lr, storedLr)) continue;
      const field = `points[${requestIndex[k]}].step`;
      throw new HttpProblem(409, `step ${step} is stored already with ${describe(storedLoss, storedLr)}; the batch gives ${describe(loss, lr)} (${field})`, field, {
        step,
        stored: { loss: storedLoss, ...(Number.isNaN(storedLr) ? {} : { lr: storedLr }) },
      });
    }
    fresh.push(k);
  }
  outcome.added = fresh.length;
  outcome.unchanged = points.steps.length - fresh.length;
  if (fresh.length === 0) return stored;
  const total = stored.steps.length + fresh.length;
  if (total > MAX_POINTS) {
    throw new HttpProblem(400, `the curve would have ${total} points, over the limit of ${MAX_POINTS} points per curve`, 'points');
  }
  const hasLrs = stored.lrs !== null || points.lrs !== null;
  const merged: PointColumns = { steps: new Float64Array(total), losses: new Float64Array(total), lrs: hasLrs ? new Float64Array(total) : null };
  // Two sorted sequences with no common step: a plain merge.
  let i = 0;
  let j = 0;
  for (let out = 0; out < total; out++) {
    const takeStored = j >= fresh.length || (i < stored.steps.length && stored.steps[i]! < points.steps[fresh[j]!]!);
    const [cols, at] = takeStored ? [stored, i++] : [points, fresh[j++]!];
    merged.steps[out] = cols.steps[at]!;
    merged.losses[out] = cols.losses[at]!;
    if (merged.lrs) merged.lrs[out] = lrAt(cols.lrs, at);
  }
  return merged;
}

/**
 * The update that appends `batch` to a curve (for CurvesRepository.updatePoints): undefined (write
 * nothing) when every point is stored already; throws 400/409 to refuse the batch.
 */
export function appendUpdate(batch: SortedBatch, outcome: AppendOutcome): (current: Curve) => PointColumns | undefined {
  return (current) => {
    const merged = mergePoints(current.points, batch, outcome);
    if (outcome.added === 0) return undefined;
    // The upload's schedule checks on the whole curve: inside its spec and agreeing with it, or an lr schedule that can be rebuilt.
    checkScheduleNotAllZero(curveSchedule(merged, current.schedule, current.warmupSteps), current.schedule !== null);
    return merged;
  };
}
