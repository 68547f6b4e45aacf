/**
 * Runs fits on a pool of worker threads (src/workers/fit-worker.ts, on WorkerPool: pool.ts). A fit
 * request is split into its main fit (`run`, or `runWithBasis` for the fit and its interval basis)
 * and its leave-one-curve-out folds (`leaveOneOut`), so the API can answer with the main fit at once
 * and complete leave-one-out in the background. The folds are background tasks on the pool: they run
 * side by side on its threads, and a later fit's main task starts before any of them that is still
 * queued (a running fold is not interrupted). Folds that fail or are cancelled stop the fit's other
 * folds. `intervalBasis` rebuilds the interval basis of a fit stored without one.
 */
import type { CurveFitMetrics, FitReport, FitRequest } from '../fit/index.js';
import { FitInputError } from '../fit/options.js';
import type { IntervalBasis } from '../predict/interval-basis.js';
import { defaultPoolSize, WorkerPool, type TaskFailure } from './pool.js';
import type { FitTaskBody, FitTaskResult } from './fit-worker.js';

/** A task's error as thrown in the worker: FitInputError (with its field) and RangeError keep their class. */
function taskError(msg: TaskFailure): Error {
  if (msg.field !== undefined) return new FitInputError(msg.message, msg.field);
  return Object.assign(msg.name === 'RangeError' ? new RangeError(msg.message) : new Error(msg.message), { name: msg.name });
}

type Done = Extract<FitTaskResult, { ok: true }>;

export interface FitRunHooks {
  onProgress?: (fraction: number) => void;
  onStart?: () => void;
  signal?: AbortSignal;
}

/** A fit's leave-one-out folds, queued or running on the pool. */
export interface LeaveOneOutRun {
  /** The folds' metrics in curve order; rejects with the first fold error (the other folds are stopped) or the cancel reason. */
  done: Promise<CurveFitMetrics[]>;
  /**
   * With `done`: each fold's share of its held-out points inside the 80% interval of the fold's fit
   * (fit-fold.ts), in curve order; null for a fold without it. Rejects as `done` does.
   */
  coverage80: Promise<(number | null)[]>;
  /** Stop the folds (queued ones are dropped, running ones' workers ended); `done` rejects with `reason`. */
  cancel: (reason: Error) => void;
}

/** Default pool size: one worker per core, at most 4. */
export const defaultFitWorkers = defaultPoolSize;

export class FitPool {
  private readonly pool: WorkerPool<FitTaskBody, Done, number>;

  constructor(size = defaultFitWorkers()) {
    this.pool = new WorkerPool({ entry: new URL('./fit-worker.ts', import.meta.url), name: 'fit', size, decodeError: taskError });
  }

  /**
   * The main fit of `request` on the pool, without leave-one-out (see `leaveOneOut`). Rejects with
   * the task's error (FitInputError or RangeError for unusable input). `wallMs` is the time from the
   * task's start to its end (queueing left out). `onStart` is called when it starts; `onProgress`
   * gets the fraction done (never decreasing, 1 at the end). Aborting `signal` stops the task and
   * rejects with the abort reason.
   */
  async run(request: FitRequest, hooks: FitRunHooks = {}): Promise<FitReport> {
    return (await this.main(request, false, hooks)).report;
  }

  /**
   * `run`, with the fit's interval basis computed beside it on the same thread (35-200 ms, left out
   * of `wallMs`); `basis` is null where it could not be built (then rebuilt when first needed).
   */
  runWithBasis(request: FitRequest, hooks: FitRunHooks = {}): Promise<{ report: FitReport; basis: IntervalBasis | null }> {
    return this.main(request, true, hooks);
  }

  private async main(request: FitRequest, intervalBasis: boolean, hooks: FitRunHooks): Promise<{ report: FitReport; basis: IntervalBasis | null }> {
    const { onProgress, onStart, signal } = hooks;
    signal?.throwIfAborted();
    let started = performance.now();
    let shown = 0;
    const progress = (fraction: number) => {
      shown = Math.max(shown, fraction);
      onProgress?.(shown);
    };
    const group = {};
    const onAbort = () => this.pool.cancelGroup(group, signal!.reason instanceof Error ? signal!.reason : new Error('fit cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const onTaskStart = () => {
        started = performance.now();
        onStart?.();
      };
      const done = await this.pool.run({ request, kind: 'main', intervalBasis }, { group, onStart: onTaskStart, onProgress: progress });
      const { report, basis, basisMs } = done as Extract<Done, { kind: 'main' }>;
      report.wallMs = performance.now() - started - basisMs;
      progress(1);
      return { report, basis };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The interval basis of a fit of `request` stored without one, at its `params` (one task, in
   * arrival order with the main fits; about as long as the basis of a new fit).
   */
  async intervalBasis(request: FitRequest, params: number[]): Promise<IntervalBasis> {
    const done = await this.pool.run({ request, kind: 'basis', params });
    return (done as Extract<Done, { kind: 'basis' }>).basis;
  }

  /**
   * Queue the leave-one-curve-out folds of `request` (one task per curve) as background tasks: they
   * start when no main fit is waiting for a worker. See LeaveOneOutRun.
   */
  leaveOneOut(request: FitRequest): LeaveOneOutRun {
    const group = {};
    const tasks = request.curves.map((_, fold) =>
      this.pool.run({ request, kind: 'fold', fold }, { group, background: true }).then((r) => r as Extract<Done, { kind: 'fold' }>),
    );
    for (const t of tasks) t.catch(() => undefined);
    const all = Promise.all(tasks).catch((error: Error) => {
      // Folds fail for the same reasons alike: stop the rest, report the first error.
      this.pool.cancelGroup(group, error);
      throw error;
    });
    const done = all.then((folds) => folds.map((f) => f.metrics));
    const coverage80 = all.then((folds) => folds.map((f) => f.coverage80));
    // A caller that never looks is no unhandled rejection.
    done.catch(() => undefined);
    coverage80.catch(() => undefined);
    return { done, coverage80, cancel: (reason) => this.pool.cancelGroup(group, reason) };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
