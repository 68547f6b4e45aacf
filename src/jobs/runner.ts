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
 *
 * Jobs outlive the process. Each kind is defined once (`define`) with a `resume` that makes its work
 * from the stored request, so at start-up (`recover`) the jobs a previous process left queued run
 * again, in arrival order, and one it left running (a crash) is retried once: fits and searches are
 * deterministic, and a job that was interrupted twice (perhaps the cause) fails instead. A clean stop
 * (`close`) stops the running work and leaves every unfinished job queued for the next start, its
 * interrupted start given back (see JobsRepository.requeue).
 */
import type { JobsRepository, StoredJob } from '../store/types.js';
import type { JobService } from './service.js';
import { JobServiceBase } from './service-base.js';

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

/** How the jobs of a kind run: given once (`define`) by the module that starts them. */
export interface JobKind {
  /** Run one at a time in arrival order with the other serial jobs (schedule searches). */
  serial?: boolean;
  /**
   * The work of a job of this kind made from its stored request: how a job left queued or
   * interrupted by a previous process runs again (also the work of `start` when it is given none).
   */
  resume: (request: Record<string, unknown>) => JobWork;
}

/** A job that ended in this process: its kind, final status and seconds from its submission (or resumption) to its end. */
export interface EndedJob {
  id: number;
  kind: string;
  status: 'done' | EndStatus;
  seconds: number;
}

/** What `recover` did with the jobs a previous process left unfinished. */
export interface Recovery {
  resumed: number;
  failed: number;
}

/** Starts of a job's work that a restart may interrupt before the job fails instead of running again. */
export const MAX_ATTEMPTS = 2;
/** The error of a job found running at start-up for the second time. */
export const INTERRUPTED_TWICE = 'interrupted twice by a restart';

interface ActiveJob {
  id: number;
  kind: string;
  serial: boolean;
  work: JobWork;
  controller: AbortController;
  /** Handed to its work. */
  started: boolean;
  /** Marked running in the store (its work really started): a clean stop puts it back in the queue. */
  running: boolean;
  /** Stopped by `cancel` (not by the runner closing): it ends cancelled, not failed. */
  cancelled: boolean;
  /** performance.now() when it was submitted or resumed here. */
  since: number;
}

const PROGRESS_WRITE_MS = 200;
const warnUnrecorded = (id: number, err: unknown) => process.emitWarning(`job ${id}: could not record its state: ${(err as Error).message ?? err}`);

export class JobRunner extends JobServiceBase implements JobService {
  /** One process on its store (SQLite): what a previous process left is its to take up. */
  readonly exclusive = true;
  /** Jobs run here. */
  readonly enqueueOnly = false;
  /** Jobs that have not ended, by id. */
  private readonly active = new Map<number, ActiveJob>();
  /** Serial jobs waiting for their turn. */
  private readonly queue: ActiveJob[] = [];
  private serialRunning: ActiveJob | undefined;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(jobs: JobsRepository) {
    super(jobs);
  }

  /**
   * On start, once every kind is defined: run again the jobs a previous process left queued, and
   * those it left running once (back to queued first); fail those interrupted twice, and those whose
   * kind is not defined here or whose request no longer makes work, with the reason.
   */
  async recover(): Promise<Recovery> {
    const recovery: Recovery = { resumed: 0, failed: 0 };
    for (const stored of await this.jobs.unfinished()) {
      const reason = await this.resume(stored);
      if (reason === undefined) recovery.resumed++;
      else {
        await this.jobs.markFailed(stored.id, reason);
        recovery.failed++;
      }
    }
    return recovery;
  }

  /**
   * Start a job of `kind` for `request`, done by `work` (default: the kind's work for the request);
   * returns the job id once it is stored (queued). One started while the runner is stopping (a
   * request that was already in flight) stays queued for the next start.
   */
  async start(kind: string, request: Record<string, unknown>, work?: JobWork): Promise<number> {
    const definition = this.kinds.get(kind);
    if (!definition) throw new Error(`no job kind ${kind} is defined`);
    const job = work ?? definition.resume(request);
    const { id } = await this.jobs.insert(kind, request);
    if (!this.closed) this.enqueue(id, kind, job);
    return id;
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

  /**
   * Stop for a clean shutdown (idempotent): no job starts any more, every job that has not ended
   * stays queued in the store (a running one goes back to queued, its start given back) to run at
   * the next start, and the running work is stopped (its outcome ignored). Resolves once the serial
   * job's work has stopped.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.queue.splice(0);
      const stopping = [...this.active.values()];
      this.active.clear();
      for (const job of stopping) {
        if (job.running) await this.jobs.requeue(job.id, true).catch((err: unknown) => warnUnrecorded(job.id, err));
        job.controller.abort(new Error('server stopped'));
      }
    }
    await this.idle;
  }

  /** Hand a stored job (submitted now, or left by a previous process) to its work: serial ones wait their turn. */
  private enqueue(id: number, kind: string, work: JobWork): void {
    const serial = this.kinds.get(kind)?.serial ?? false;
    const job: ActiveJob = { id, kind, serial, work, controller: new AbortController(), started: false, running: false, cancelled: false, since: performance.now() };
    this.active.set(id, job);
    if (job.serial) {
      this.queue.push(job);
      if (!this.serialRunning) this.idle = this.drain();
    } else {
      void this.run(job);
    }
  }

  /** Queue a job left unfinished by a previous process; the reason it cannot run again, if so. */
  private async resume(stored: StoredJob): Promise<string | undefined> {
    const kind = this.kinds.get(stored.kind);
    if (!kind) return `server restarted: jobs of kind ${stored.kind} cannot run here`;
    const interrupted = stored.status === 'running';
    if (interrupted && stored.attempts >= MAX_ATTEMPTS) return INTERRUPTED_TWICE;
    let work: JobWork;
    try {
      work = kind.resume(stored.request);
    } catch (err) {
      return `server restarted: the job cannot run again: ${(err as Error).message ?? err}`;
    }
    // Interrupted by a crash: it waits again, and this start will be its retry (the crashed one counts).
    if (interrupted) await this.jobs.requeue(stored.id, false);
    this.enqueue(stored.id, stored.kind, work);
    return undefined;
  }

  private ended(job: ActiveJob, status: EndedJob['status']): void {
    this.events.emit('ended', { id: job.id, kind: job.kind, status, seconds: (performance.now() - job.since) / 1000 } satisfies EndedJob);
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
      this.ended(job, status);
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
    const warn = (err: unknown) => warnUnrecorded(id, err);
    let lastWrite = 0;
    const hooks: JobHooks = {
      onStart: () => {
        if (!isCurrent() || job.serial) return;
        job.running = true;
        this.jobs.markRunning(id).catch(warn);
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
      if (job.serial) {
        job.running = true;
        await this.jobs.markRunning(id);
      }
      let outcome: JobOutcome;
      try {
        outcome = await job.work(hooks);
      } catch (err) {
        // Stopped on purpose: cancelled (cancel) with the reason given; a clean stop (close) has ended it already.
        const reason = controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason.message : undefined;
        await this.end(job, job.cancelled ? 'cancelled' : 'failed', reason ?? ((err as Error).message || String(err)));
        return;
      }
      if (!isCurrent()) return; // ended (cancelled, failed by close) meanwhile
      this.active.delete(id);
      await this.jobs.markDone(id, outcome.stored, outcome.bestLoss ?? null, outcome.scheduleId ?? null);
      this.emit(id, { type: 'done', data: outcome.event });
      this.ended(job, 'done');
    } catch (err) {
      // Recording the outcome failed (e.g. the store went away): never an unhandled rejection.
      process.emitWarning(`job ${id}: could not record its outcome: ${(err as Error).message ?? err}`);
    }
  }
}
