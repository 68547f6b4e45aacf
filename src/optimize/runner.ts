/**
 * Jobs in this process. Optimizations: a FIFO queue run one at a time, each by the optimizer it was
 * submitted with (the route's runs on worker threads, see pool.ts).
 * Other long work that runs elsewhere (fits on the fit worker pool) is tracked with `track`. Progress
 * is written to the jobs table (throttled) and published to listeners (the SSE stream).
 * One runner per database; created by the first route plugin that asks for it.
 */
import { EventEmitter } from 'node:events';
import type { Db } from '../store/db.js';
import { failUnfinishedJobs, getJob, insertJob, markDone, markFailed, markRunning, updateProgress } from '../store/jobs.js';
import { insertSchedule } from '../store/schedules.js';
import { optimizeSchedule, type OptimizeOptions, type OptimizeProgress, type OptimizeRequest, type OptimizeResult } from './index.js';

/** Runs one optimization: `optimizeSchedule` on this thread, or an OptimizePool's `run` (pool.ts). */
export type Optimizer = (request: OptimizeRequest, options: OptimizeOptions) => Promise<OptimizeResult>;

export type JobEvent =
  | { type: 'progress'; data: OptimizeProgress | { progress: number } }
  | { type: 'done'; data: Record<string, unknown> }
  | { type: 'failed'; data: { error: string } };

/** What a finished optimization stores and returns: the result with the id of its stored schedule. */
export function storeResult<R extends Pick<OptimizeResult, 'schedule' | 'predictedFinalLoss' | 'space'> & { lrs: ArrayLike<number> }>(
  db: Db,
  request: OptimizeRequest & { law?: string; fit?: number },
  result: R,
): R & { scheduleId: number } {
  const schedule = insertSchedule(db, {
    spec: result.schedule,
    totalSteps: result.lrs.length,
    peakLr: request.peakLr,
    source: {
      law: 'mpl',
      params: request.params,
      ...(request.fit !== undefined ? { fit: request.fit } : {}),
      space: result.space,
      predictedFinalLoss: result.predictedFinalLoss,
    },
  });
  return { ...result, scheduleId: schedule.id };
}

export class JobRunner {
  private readonly queue: { id: number; request: OptimizeRequest & { fit?: number }; optimize: Optimizer }[] = [];
  private readonly events = new EventEmitter();
  private running: { id: number; controller: AbortController } | undefined;
  /** Tracked jobs not ended yet, with the controller that stops their work. */
  private readonly tracked = new Map<number, AbortController>();
  private closed = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly db: Db) {
    this.events.setMaxListeners(0);
    failUnfinishedJobs(db, 'server restarted');
  }

  /** Queue an optimization, run by `optimize` (on this thread by default); returns the job id. */
  submit(request: OptimizeRequest & { fit?: number }, optimize: Optimizer = optimizeSchedule): number {
    const job = insertJob(this.db, request as unknown as Record<string, unknown>);
    this.queue.push({ id: job.id, request, optimize });
    if (!this.running) this.idle = this.drain();
    return job.id;
  }

  /**
   * Run `work` as a job of `kind`, beside any optimization. The job is queued until `work` calls
   * `onStart`, then running; its progress (0..1) is stored and published. `work` gets `isCurrent`
   * to check before it stores anything (false once the job was failed by `failTracked` or `cancel`)
   * and `signal`, aborted when the job is cancelled or the runner closes. On success
   * `stored` is the job's result and `event` the `done` event's data. Returns the job id.
   */
  track(
    kind: string,
    request: Record<string, unknown>,
    work: (hooks: { onProgress: (fraction: number) => void; onStart: () => void; isCurrent: () => boolean; signal: AbortSignal }) => Promise<{ stored: Record<string, unknown>; event: Record<string, unknown> }>,
  ): number {
    const { id } = insertJob(this.db, request, kind);
    const controller = new AbortController();
    this.tracked.set(id, controller);
    const isCurrent = () => this.tracked.has(id);
    let lastWrite = 0;
    const onProgress = (fraction: number) => {
      if (!isCurrent()) return;
      const t = performance.now();
      if (t - lastWrite > 200) {
        lastWrite = t;
        updateProgress(this.db, id, fraction, null);
      }
      this.emit(id, { type: 'progress', data: { progress: fraction } });
    };
    const onStart = () => {
      if (isCurrent()) markRunning(this.db, id);
    };
    work({ onProgress, onStart, isCurrent, signal: controller.signal })
      .then(
        ({ stored, event }) => {
          if (!this.tracked.delete(id)) return; // failed by failTracked() meanwhile
          markDone(this.db, id, stored, null, null);
          this.emit(id, { type: 'done', data: event });
        },
        (err: unknown) => {
          if (this.tracked.has(id)) this.failNow(id, (err as Error).message || String(err));
        },
      )
      .catch((err: unknown) => {
        // Recording the outcome failed (e.g. the database went away): never an unhandled rejection.
        process.emitWarning(`job ${id}: could not record its outcome: ${(err as Error).message ?? err}`);
      });
    return id;
  }

  /** Fail every tracked job that has not ended, and stop their work (not waited for). */
  failTracked(reason: string): void {
    for (const id of [...this.tracked.keys()]) this.failNow(id, reason);
  }

  /** Mark a job failed with `reason` and publish it; a tracked job is untracked and its work stopped. */
  private failNow(id: number, reason: string): void {
    const controller = this.tracked.get(id);
    this.tracked.delete(id);
    markFailed(this.db, id, reason);
    this.emit(id, { type: 'failed', data: { error: reason } });
    controller?.abort(new Error(reason));
  }

  /**
   * Cancel a job that has not ended: it fails with `reason` at once (a running optimization stops at
   * its next iteration, a fit's tasks are stopped). False when the job is not queued or running here.
   */
  cancel(id: number, reason = 'cancelled'): boolean {
    if (this.tracked.has(id)) {
      this.failNow(id, reason);
      return true;
    }
    const queued = this.queue.findIndex((q) => q.id === id);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.failNow(id, reason);
      return true;
    }
    if (this.running?.id === id) {
      // A second cancel of a search that is stopping is the same request.
      if (!this.running.controller.signal.aborted) this.running.controller.abort(new Error(reason));
      return true;
    }
    return false;
  }

  /** Listen to one job's events; returns the unsubscribe function. */
  subscribe(id: number, listener: (event: JobEvent) => void): () => void {
    const name = `job:${id}`;
    this.events.on(name, listener);
    return () => this.events.off(name, listener);
  }

  private emit(id: number, event: JobEvent): void {
    this.events.emit(`job:${id}`, event);
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const { id, request, optimize } = this.queue.shift()!;
      const controller = new AbortController();
      this.running = { id, controller };
      markRunning(this.db, id);
      let lastWrite = 0;
      try {
        const result = await optimize(request, {
          signal: controller.signal,
          onProgress: (p) => {
            const t = performance.now();
            if (t - lastWrite > 200 || p.progress >= 1) {
              lastWrite = t;
              updateProgress(this.db, id, p.progress, Number.isFinite(p.bestLoss) ? p.bestLoss : null);
            }
            this.emit(id, { type: 'progress', data: p });
          },
        });
        const stored = storeResult(this.db, request, result);
        const { lrs: _lrs, ...withoutLrs } = stored;
        markDone(this.db, id, withoutLrs, result.predictedFinalLoss, stored.scheduleId);
        this.emit(id, { type: 'done', data: stored as unknown as Record<string, unknown> });
      } catch (err) {
        // Stopped on purpose (cancel, close): the job fails with the reason given.
        const reason = controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason.message : undefined;
        this.failNow(id, reason ?? ((err as Error).message || String(err)));
      } finally {
        this.running = undefined;
      }
    }
  }

  /** Stop: abort the running job (it fails with the reason), fail the queued and tracked ones, wait. */
  async close(reason = 'server stopped'): Promise<void> {
    this.closed = true;
    this.failTracked(reason);
    for (const { id } of this.queue.splice(0)) this.failNow(id, reason);
    this.running?.controller.abort(new Error(reason));
    await this.idle;
  }

  /** The job as the API shows it (result with per-step lrs re-expanded by the caller). */
  job(id: number) {
    return getJob(this.db, id);
  }
}

const runners = new WeakMap<Db, JobRunner>();

/** The runner of a database (created on first use: unfinished jobs of a previous process fail then). */
export function jobRunner(db: Db): JobRunner {
  let runner = runners.get(db);
  if (!runner) {
    runner = new JobRunner(db);
    runners.set(db, runner);
  }
  return runner;
}
