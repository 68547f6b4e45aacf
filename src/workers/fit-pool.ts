/**
 * Runs fits on a small pool of worker threads (src/workers/fit-worker.ts), started lazily. A fit
 * request is split into its main fit and its leave-one-curve-out folds, which are independent and
 * run side by side on the pool's threads (on 2 cores a 3-curve fit with leave-one-out takes about
 * half the time of running them in turn). Tasks start in arrival order. Idle workers are unref'd so
 * they never keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { attachLeaveOneOut, formatReport, wantsLeaveOneOut, type CurveFitMetrics, type FitReport, type FitRequest } from '../fit/index.js';
import type { FitTask, FitTaskProgress, FitTaskResult } from './fit-worker.js';

type TaskBody = { kind: 'main' } | { kind: 'fold'; fold: number };
type Done = Extract<FitTaskResult, { ok: true }>;

interface Queued {
  task: FitTask;
  onProgress?: (fraction: number) => void;
  resolve: (result: Done) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: Queued | undefined;
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
      if ('progress' in msg) {
        entry.busy?.onProgress?.(msg.progress);
        return;
      }
      const job = entry.busy;
      entry.busy = undefined;
      if (job) {
        if (msg.ok) job.resolve(msg);
        else job.reject(Object.assign(msg.name === 'RangeError' ? new RangeError(msg.message) : new Error(msg.message), { name: msg.name }));
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
    }
    for (const w of this.workers) if (!w.busy) w.worker.unref();
  }

  private submit(request: FitRequest, body: TaskBody, onProgress?: (fraction: number) => void): Promise<Done> {
    if (this.closed) return Promise.reject(new Error('the fit pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { id: this.nextId++, request, ...body } as FitTask, onProgress, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Fit on the pool: the main fit and each leave-one-out fold as separate tasks. Rejects with the
   * worker's error (RangeError for unusable input). `wallMs` is the elapsed time of the whole.
   * `onProgress` gets the fraction done over all tasks (each task counts the same).
   */
  async run(request: FitRequest, onProgress?: (fraction: number) => void): Promise<{ report: FitReport; text: string }> {
    const started = performance.now();
    const taskCount = 1 + (wantsLeaveOneOut(request) ? request.curves.length : 0);
    const done = new Float64Array(taskCount);
    const progressOf = (task: number) =>
      onProgress &&
      ((fraction: number) => {
        done[task] = fraction;
        onProgress(done.reduce((a, b) => a + b, 0) / taskCount);
      });
    const track = (task: number, promise: Promise<Done>) => promise.then((r) => (progressOf(task)?.(1), r));
    const main = track(0, this.submit(request, { kind: 'main' }, progressOf(0)));
    const folds = taskCount > 1 ? request.curves.map((_, fold) => track(fold + 1, this.submit(request, { kind: 'fold', fold }, progressOf(fold + 1)))) : [];
    // Folds fail for the same input errors as the main fit; report the main fit's error.
    folds.forEach((f) => f.catch(() => undefined));
    const { report } = (await main) as Extract<Done, { kind: 'main' }>;
    if (folds.length > 0) {
      const metrics = (await Promise.all(folds)).map((r) => (r as Extract<Done, { kind: 'fold' }>).metrics as CurveFitMetrics);
      attachLeaveOneOut(report, metrics);
    }
    report.wallMs = performance.now() - started;
    return { report, text: formatReport(report) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the fit pool is closed'));
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()));
  }
}
