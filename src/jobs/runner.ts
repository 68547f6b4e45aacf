/**
 * Jobs in this process, fits and schedule searches alike, with one lifecycle: queued, running
 * (progress, best loss), then done (result), failed (error) or cancelled (the cancel's reason, e.g.
 * "cancelled", kept as its error). Everything is persisted through the store's jobs repository (progress throttled) and
 * published to listeners (the SSE stream). The work itself is the caller's: it gets hooks to report
 * its start and progress, a signal that stops it, and returns what the job stores (storing its
 * output elsewhere, e.g. a search's schedule, is the caller's job too).
 *
 * Serial jobs (searches) wait in a FIFO queue and run one at a time: the runner starts them, and a
 * cancelled running one ends (cancelled) when its work has stopped. Other jobs (fits, which queue on
 * their own pool) start their work at once, say when they really start (`onStart`), and end at once
 * when cancelled (their work is stopped, its outcome ignored). One runner per app (src/app.ts).
 */
import { EventEmitter } from 'node:events';
import type { JobsRepository, StoredJob } from '../store/types.js';

/** What a job publishes: progress (its data as reported), then done (the result), failed or cancelled (named as its final status). */
export type JobEvent =
  | { type: 'progress'; data: JobProgress }
  | { type: 'done'; data: Record<string, unknown> }
  | { type: 'failed' | 'cancelled'; data: { error: string } };

/** How a job ends without its work's outcome. */
type EndStatus = 'failed' | 'cancelled';

/** Progress as reported by a job's work (with any more fields): published as is; `progress` (0..1) and `bestLoss` stored. */
export interface JobProgress {
  progress: number;
  bestLoss?: number | null;
}

export interface JobHooks {
  /** The work has really started (the job is running). Serial jobs are marked running by the runner. */
  onStart: () => void;
  onProgress: (progress: JobProgress) => void;
  /** False once the job has ended without the work (cancelled, failed by the runner): then store nothing. */
  isCurrent: () => boolean;
  /** Aborted when the job is cancelled or the runner closes (the reason is an Error). */
  signal: AbortSignal;
}

/** What a job's work returns: `stored` is the job's stored result, `event` the `done` event's data. */
export interface JobOutcome {
  stored: Record<string, unknown>;
  event: Record<string, unknown>;
  bestLoss?: number | null;
  /** The schedule the job made, if any (stored by the work). */
  scheduleId?: number | null;
}

export type JobWork = (hooks: JobHooks) => Promise<JobOutcome>;

export interface JobOptions {
  /** Run one at a time in arrival order with the other serial jobs (schedule searches). */
  serial?: boolean;
}

interface ActiveJob {
  id: number;
  kind: string;
  serial: boolean;
  work: JobWork;
  controller: AbortController;
  /** Handed to its work. */
  started: boolean;
  /** Stopped by `cancel` (not by the runner closing): it ends cancelled, not failed. */
  cancelled: boolean;
}

const PROGRESS_WRITE_MS = 200;

export class JobRunner {
  private readonly events = new EventEmitter();
  /** Jobs that have not ended, by id. */
  private readonly active = new Map<number, ActiveJob>();
  /** Serial jobs waiting for their turn. */
  private readonly queue: ActiveJob[] = [];
  private serialRunning: ActiveJob | undefined;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly jobs: JobsRepository) {
    this.events.setMaxListeners(0);
  }

  /** On start: jobs left queued or running by a previous process fail. Returns how many. */
  recover(reason = 'server restarted'): Promise<number> {
    return this.jobs.failUnfinished(reason);
  }

  /** Start a job of `kind` for `request`, done by `work`; returns the job id once it is stored (queued). */
  async start(kind: string, request: Record<string, unknown>, work: JobWork, options: JobOptions = {}): Promise<number> {
    const { id } = await this.jobs.insert(kind, request);
    const job: ActiveJob = { id, kind, serial: options.serial ?? false, work, controller: new AbortController(), started: false, cancelled: false };
    this.active.set(id, job);
    if (job.serial) {
      this.queue.push(job);
      if (!this.serialRunning) this.idle = this.drain();
    } else {
      void this.run(job);
    }
    return id;
  }

  /** The job as stored, or undefined. */
  job(id: number): Promise<StoredJob | undefined> {
    return this.jobs.get(id);
  }

  /**
   * Cancel a job that has not ended. A queued or non-serial job ends cancelled, with `reason` as its
   * error, at once (its work is stopped); a running serial job is stopped and ends cancelled when its
   * work ends. False when the job is not queued or running here.
   */
  async cancel(id: number, reason = 'cancelled'): Promise<boolean> {
    const job = this.active.get(id);
    if (!job) return false;
    if (job.serial && job.started) {
      // A second cancel of a search that is stopping (cancelled, or the runner closing) is the same request.
      if (!job.controller.signal.aborted) {
        job.cancelled = true;
        job.controller.abort(new Error(reason));
      }
      return true;
    }
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    await this.end(job, 'cancelled', reason);
    return true;
  }

  /** Fail every non-serial job of `kind` that has not ended, with `reason`, and stop its work (not waited for). */
  async failKind(kind: string, reason: string): Promise<void> {
    await Promise.all([...this.active.values()].filter((j) => j.kind === kind && !j.serial).map((j) => this.end(j, 'failed', reason)));
  }

  /** Listen to one job's events; returns the unsubscribe function. */
  subscribe(id: number, listener: (event: JobEvent) => void): () => void {
    const name = `job:${id}`;
    this.events.on(name, listener);
    return () => this.events.off(name, listener);
  }

  /** Stop: fail the queued and non-serial jobs, abort the running serial one (it fails with the reason), wait for it. */
  async close(reason = 'server stopped'): Promise<void> {
    this.closed = true;
    this.queue.splice(0);
    await Promise.all([...this.active.values()].filter((j) => j !== this.serialRunning).map((j) => this.end(j, 'failed', reason)));
    this.serialRunning?.controller.abort(new Error(reason));
    await this.idle;
  }

  private emit(id: number, event: JobEvent): void {
    this.events.emit(`job:${id}`, event);
  }

  /** Mark a job failed or cancelled with `reason` (its error) and publish it; it ends here and its work is stopped. */
  private async end(job: ActiveJob, status: EndStatus, reason: string): Promise<void> {
    if (this.active.get(job.id) !== job) return;
    this.active.delete(job.id);
    try {
      if (status === 'cancelled') await this.jobs.markCancelled(job.id, reason);
      else await this.jobs.markFailed(job.id, reason);
    } finally {
      this.emit(job.id, { type: status, data: { error: reason } });
      job.controller.abort(new Error(reason));
    }
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.serialRunning = job;
      try {
        await this.run(job);
      } finally {
        this.serialRunning = undefined;
      }
    }
  }

  /** Run a job's work to its end and record the outcome (never rejects). */
  private async run(job: ActiveJob): Promise<void> {
    const { id, controller } = job;
    const isCurrent = () => this.active.get(id) === job;
    const warn = (err: unknown) => process.emitWarning(`job ${id}: could not record its state: ${(err as Error).message ?? err}`);
    let lastWrite = 0;
    const hooks: JobHooks = {
      onStart: () => {
        if (isCurrent() && !job.serial) this.jobs.markRunning(id).catch(warn);
      },
      onProgress: (p) => {
        if (!isCurrent()) return;
        const t = performance.now();
        if (t - lastWrite > PROGRESS_WRITE_MS || (job.serial && p.progress >= 1)) {
          lastWrite = t;
          const bestLoss = typeof p.bestLoss === 'number' && Number.isFinite(p.bestLoss) ? p.bestLoss : null;
          this.jobs.updateProgress(id, p.progress, bestLoss).catch(warn);
        }
        this.emit(id, { type: 'progress', data: p });
      },
      isCurrent,
      signal: controller.signal,
    };
    try {
      job.started = true;
      if (job.serial) await this.jobs.markRunning(id);
      let outcome: JobOutcome;
      try {
        outcome = await job.work(hooks);
      } catch (err) {
        // Stopped on purpose: cancelled (cancel), or failed (close), with the reason given.
        const reason = controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason.message : undefined;
        await this.end(job, job.cancelled ? 'cancelled' : 'failed', reason ?? ((err as Error).message || String(err)));
        return;
      }
      if (!isCurrent()) return; // ended (cancelled, failed by close) meanwhile
      this.active.delete(id);
      await this.jobs.markDone(id, outcome.stored, outcome.bestLoss ?? null, outcome.scheduleId ?? null);
      this.emit(id, { type: 'done', data: outcome.event });
    } catch (err) {
      // Recording the outcome failed (e.g. the store went away): never an unhandled rejection.
      process.emitWarning(`job ${id}: could not record its outcome: ${(err as Error).message ?? err}`);
    }
  }
}
