/**
 * Runs fits on a pool of worker threads (src/workers/fit-worker.ts, on WorkerPool: pool.ts). A fit
 * request is split into its main fit and its leave-one-curve-out folds, which are independent and
 * run side by side on the pool's threads (on 2 cores a 3-curve fit with leave-one-out takes about
 * two thirds of the time of running them in turn). When one task of a fit fails or the fit is
 * aborted, the fit's other tasks are dropped (queued) or stopped (running), so they never hold up
 * later fits.
 */
import { attachLeaveOneOut, formatReport, wantsLeaveOneOut, type CurveFitMetrics, type FitReport, type FitRequest } from '../fit/index.js';
import { FitInputError } from '../fit/options.js';
import { defaultPoolSize, WorkerPool, type TaskFailure } from './pool.js';
import type { FitTaskBody, FitTaskResult } from './fit-worker.js';

/** A task's error as thrown in the worker: FitInputError (with its field) and RangeError keep their class. */
function taskError(msg: TaskFailure): Error {
  if (msg.field !== undefined) return new FitInputError(msg.message, msg.field);
  return Object.assign(msg.name === 'RangeError' ? new RangeError(msg.message) : new Error(msg.message), { name: msg.name });
}

type TaskBody = { kind: 'main' } | { kind: 'fold'; fold: number };
type Done = Extract<FitTaskResult, { ok: true }>;

export interface FitRunHooks {
  onProgress?: (fraction: number) => void;
  onStart?: () => void;
  signal?: AbortSignal;
}

/** Default pool size: one worker per core, at most 4. */
export const defaultFitWorkers = defaultPoolSize;

export class FitPool {
  private readonly pool: WorkerPool<FitTaskBody, Done, number>;

  constructor(size = defaultFitWorkers()) {
    this.pool = new WorkerPool({ entry: new URL('./fit-worker.ts', import.meta.url), name: 'fit', size, decodeError: taskError });
  }

  /**
   * Fit on the pool: the main fit and each leave-one-out fold as separate tasks. Rejects with the
   * first task error (RangeError for unusable input), after stopping the fit's other tasks.
   * `wallMs` is the time from the first task's start to the end (queueing behind other fits left out).
   * `onStart` is called when the first task starts; `onProgress` gets the fraction done over all
   * tasks (each counts the same; never decreasing). Aborting `signal` stops the fit's tasks and
   * rejects with the abort reason.
   */
  async run(request: FitRequest, hooks: FitRunHooks = {}): Promise<{ report: FitReport; text: string }> {
    const { onProgress, onStart, signal } = hooks;
    signal?.throwIfAborted();
    let started = performance.now();
    // The fit's tasks form one group: they start their wall time together and are cancelled together.
    const group = {};
    let anyStarted = false;
    const onTaskStart = () => {
      if (anyStarted) return;
      anyStarted = true;
      started = performance.now();
      onStart?.();
    };
    const taskCount = 1 + (wantsLeaveOneOut(request) ? request.curves.length : 0);
    const done = new Float64Array(taskCount);
    const progressOf = (task: number) => (fraction: number) => {
      done[task] = Math.max(done[task]!, fraction);
      onProgress?.(done.reduce((a, b) => a + b, 0) / taskCount);
    };
    const task = (index: number, body: TaskBody) =>
      this.pool.run({ request, ...body }, { group, onStart: onTaskStart, onProgress: progressOf(index) }).then((r) => (progressOf(index)(1), r));
    const tasks = [task(0, { kind: 'main' }), ...Array.from({ length: taskCount - 1 }, (_, fold) => task(fold + 1, { kind: 'fold', fold }))];
    const onAbort = () => this.pool.cancelGroup(group, signal!.reason instanceof Error ? signal!.reason : new Error('fit cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const [main, ...folds] = await Promise.all(tasks);
      const { report } = main as Extract<Done, { kind: 'main' }>;
      if (folds.length > 0) attachLeaveOneOut(report, folds.map((f) => (f as Extract<Done, { kind: 'fold' }>).metrics as CurveFitMetrics));
      report.wallMs = performance.now() - started;
      return { report, text: formatReport(report) };
    } catch (error) {
      // Folds fail for the same input errors as the main fit: stop the rest, report the first error.
      tasks.forEach((t) => t.catch(() => undefined));
      this.pool.cancelGroup(group, error as Error);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
