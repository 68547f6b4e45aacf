/**
 * Runs fits on a small pool of worker threads (src/workers/fit-worker.ts), started lazily. A fit
 * request is split into its main fit and its leave-one-curve-out folds, which are independent and
 * run side by side on the pool's threads (on 2 cores a 3-curve fit with leave-one-out takes about
 * two thirds of the time of running them in turn). Tasks start in arrival order. When one task of a
 * fit fails, the fit's other tasks are dropped (queued) or stopped (running: that worker is ended
 * and replaced on demand), so they never hold up later fits. Idle workers are unref'd so they never
 * keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { attachLeaveOneOut, formatReport, wantsLeaveOneOut, type CurveFitMetrics, type FitReport, type FitRequest } from '../fit/index.js';
import { FitInputError } from '../fit/options.js';
import type { FitTask, FitTaskProgress, FitTaskResult } from './fit-worker.js';

/** A task's error as thrown in the worker: FitInputError (with its field) and RangeError keep their class. */
function taskError(msg: Extract<FitTaskResult, { ok: false }>): Error {
  if (msg.field !== undefined) return new FitInputError(msg.message, msg.field);
  return Object.assign(msg.name === 'RangeError' ? new RangeError(msg.message) : new Error(msg.message), { name: msg.name });
}

type TaskBody = { kind: 'main' } | { kind: 'fold'; fold: number };
type Done = Extract<FitTaskResult, { ok: true }>;

/** One fit request on the pool: its tasks share a run id. */
interface Run {
  id: number;
  /** Called once, when the first of its tasks reaches a worker. */
  onStart?: () => void;
  started: boolean;
}

interface Queued {
  run: Run;
  task: FitTask;
  onProgress?: (fraction: number) => void;
  resolve: (result: Done) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: Queued | undefined;
}

export interface FitRunHooks {
  onProgress?: (fraction: number) => void;
  onStart?: () => void;
  signal?: AbortSignal;
}

/** Default pool size: one worker per core, at most 4. */
export function defaultFitWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

export class FitPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Queued[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly size = defaultFitWorkers()) {}

  private startWorker(): PoolWorker {
    // Worker threads do not inherit tsx's loader hooks: a small .mjs entry registers them first.
    const worker = new Worker(new URL('./tsx-bootstrap.mjs', import.meta.url), {
      workerData: { entry: new URL('./fit-worker.ts', import.meta.url).href },
    });
    const entry: PoolWorker = { worker, busy: undefined };
    worker.on('message', (msg: FitTaskResult | FitTaskProgress) => {
      if (this.closed) return;
      if ('progress' in msg) {
        entry.busy?.onProgress?.(msg.progress);
        return;
      }
      const job = entry.busy;
      entry.busy = undefined;
      if (job) {
        if (msg.ok) job.resolve(msg);
        else job.reject(taskError(msg));
      }
      this.dispatch();
    });
    const fail = (error: Error) => {
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers.splice(index, 1);
      entry.busy?.reject(error);
      entry.busy = undefined;
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`fit worker exited with code ${code}`)));
    this.workers.push(entry);
    return entry;
  }

  /** Hand queued tasks to idle workers, starting workers up to the pool size. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let free = this.workers.find((w) => !w.busy);
      if (!free && this.workers.length < this.size) free = this.startWorker();
      if (!free) break;
      const job = this.queue.shift()!;
      free.busy = job;
      free.worker.ref();
      free.worker.postMessage(job.task);
      if (!job.run.started) {
        job.run.started = true;
        job.run.onStart?.();
      }
    }
    for (const w of this.workers) if (!w.busy) w.worker.unref();
  }

  private submit(run: Run, request: FitRequest, body: TaskBody, onProgress?: (fraction: number) => void): Promise<Done> {
    if (this.closed) return Promise.reject(new Error('the fit pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ run, task: { id: this.nextId++, request, ...body } as FitTask, onProgress, resolve, reject });
      this.dispatch();
    });
  }

  /** Drop the queued tasks of `run` and end the workers busy with its running ones. */
  private cancel(run: Run, reason: Error): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.run === run) this.queue.splice(i, 1)[0]!.reject(reason);
    }
    for (const w of [...this.workers]) {
      if (w.busy?.run !== run) continue;
      const job = w.busy;
      w.busy = undefined;
      this.workers.splice(this.workers.indexOf(w), 1);
      job.reject(reason);
      void w.worker.terminate();
    }
    this.dispatch();
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
    const run: Run = {
      id: this.nextId++,
      started: false,
      onStart: () => {
        started = performance.now();
        onStart?.();
      },
    };
    const taskCount = 1 + (wantsLeaveOneOut(request) ? request.curves.length : 0);
    const done = new Float64Array(taskCount);
    const progressOf = (task: number) => (fraction: number) => {
      done[task] = Math.max(done[task]!, fraction);
      onProgress?.(done.reduce((a, b) => a + b, 0) / taskCount);
    };
    const task = (index: number, body: TaskBody) => this.submit(run, request, body, progressOf(index)).then((r) => (progressOf(index)(1), r));
    const tasks = [task(0, { kind: 'main' }), ...Array.from({ length: taskCount - 1 }, (_, fold) => task(fold + 1, { kind: 'fold', fold }))];
    const onAbort = () => this.cancel(run, signal!.reason instanceof Error ? signal!.reason : new Error('fit cancelled'));
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
      this.cancel(run, error as Error);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the fit pool is closed'));
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()));
  }
}
