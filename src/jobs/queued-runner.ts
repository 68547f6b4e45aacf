/**
 * Jobs through the durable queue of a PostgreSQL store (JobQueue, src/store/types.ts), for several
 * processes on one database: API instances (LRCAST_ROLE=api) only enqueue, answer and stream;
 * workers (LRCAST_ROLE=worker, `npm run worker`) take jobs of the kinds they serve, as many at once
 * as configured; LRCAST_ROLE=all does both in one process. The lifecycle and events are JobRunner's
 * (runner.ts), across processes:
 *
 * - A job is a stored row plus a delivery; a worker claims the row (running, one more attempt) under
 *   an owner token, renews its heartbeat while it runs, and stores progress and outcome only while it
 *   still owns it: a late or duplicate start stores nothing, so a job never has two results.
 * - Events are published by the database (NOTIFY) and received by every process (LISTEN): progress,
 *   then done (read back from the stored job: `doneEvent`), failed or cancelled.
 * - A cancel, from any process, ends the job at once in the store; the worker running it hears it and
 *   stops its work (at the latest at its next heartbeat, HEARTBEAT_MS).
 * - A worker that dies stops renewing its heartbeat: every process sweeps such jobs back to the queue
 *   for another worker, and fails them, with the reason, once they have had `maxAttempts` starts.
 * - A clean stop stops the running work and gives its jobs back to the queue (their start given back).
 */
import { randomUUID } from 'node:crypto';
import type { JobQueue, JobsRepository, QueueEvent, StoredJob } from '../store/types.js';
import { INTERRUPTED_TWICE, type EndedJob, type JobEvent, type JobHooks, type JobOutcome, type JobWork, type Recovery } from './runner.js';
import type { JobService } from './service.js';
import { JobServiceBase } from './service-base.js';

export type Role = 'all' | 'api' | 'worker';

export interface QueuedRunnerOptions {
  /** `api`: enqueue only; `worker`: take jobs only; `all`: both. */
  role: Role;
  /** The kinds this process takes (roles all and worker); undefined: every kind defined. */
  kinds?: string[];
  /** How many jobs of `kind` this process runs at once. */
  concurrency: (kind: string) => number;
  /** Starts of a job's work (its worker died) before it fails instead of running again. */
  maxAttempts: number;
  /** A running job whose heartbeat is older than this (ms) lost its worker. */
  staleMs: number;
  /** The `done` event's data for a job that ended done (as GET /jobs/{id} shows its result). */
  doneEvent: (job: StoredJob) => Promise<Record<string, unknown>>;
}

/** How often a worker renews the heartbeat of each job it runs (and so notices, at the latest, a cancel it did not hear). */
export const HEARTBEAT_MS = 1000;
/** How often each process looks for jobs whose worker died. */
const SWEEP_MS = 2000;
const PROGRESS_WRITE_MS = 200;

interface RunningJob {
  id: number;
  kind: string;
  owner: string;
  controller: AbortController;
  /** Cancelled (here or elsewhere): it ends cancelled, stored by the canceller. */
  cancelled: boolean;
  /** No longer ours (cancelled elsewhere, or handed to another worker): store nothing. */
  lost: boolean;
  /** Given back to the queue by a clean stop. */
  released: boolean;
  since: number;
}

const warn = (what: string, err: unknown) => process.emitWarning(`${what}: ${(err as Error)?.message ?? err}`);

export class QueuedJobRunner extends JobServiceBase implements JobService {
  readonly exclusive: boolean;
  readonly enqueueOnly: boolean;
  /** Jobs whose work runs in this process, by id. */
  private readonly running = new Map<number, RunningJob>();
  /** The deliveries being handled here (resolved when handled). */
  private readonly handling = new Set<Promise<void>>();
  private readonly unlisten: () => void;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    jobs: JobsRepository,
    private readonly queue: JobQueue,
    private readonly options: QueuedRunnerOptions,
  ) {
    super(jobs);
    this.exclusive = options.role === 'all';
    this.enqueueOnly = options.role === 'api';
    this.unlisten = queue.listen((event) => this.onQueueEvent(event));
  }

  /** Start taking the queue's jobs (workers) and sweeping the jobs of dead workers (every process). Nothing is resumed here: the queue keeps every unfinished job. */
  async recover(): Promise<Recovery> {
    await this.queue.start(); // every role hears the events of the others (an API instance that never enqueues still streams)
    // Alone on the database (role all): what a previous process left is ours to take up, as on SQLite.
    const alone = this.exclusive ? await this.queue.recoverAlone(this.options.maxAttempts, INTERRUPTED_TWICE) : { resumed: 0, failed: 0 };
    if (this.options.role !== 'api') {
      const kinds = this.options.kinds ?? this.definedKinds();
      for (const kind of kinds) {
        if (!this.kinds.has(kind)) throw new Error(`LRCAST_WORKER_KINDS: no job kind ${kind} (the kinds are ${this.definedKinds().join(', ')})`);
        await this.queue.work(kind, Math.max(1, this.options.concurrency(kind)), (id) => this.handle(kind, id));
      }
    }
    const swept = await this.sweep();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
    return { resumed: alone.resumed + swept.requeued.length, failed: alone.failed + swept.failed.length };
  }

  private async sweep(): Promise<{ requeued: number[]; failed: number[] }> {
    if (this.closed) return { requeued: [], failed: [] };
    const staleSeconds = this.options.staleMs / 1000;
    try {
      return await this.queue.sweep(this.options.staleMs, this.options.maxAttempts, (attempts) =>
        attempts > 1 ? `the workers running it stopped ${attempts} times (no heartbeat for ${staleSeconds} s): not retried again` : `its worker stopped (no heartbeat for ${staleSeconds} s)`,
      );
    } catch (err) {
      warn('job sweep', err);
      return { requeued: [], failed: [] };
    }
  }

  async start(kind: string, request: Record<string, unknown>, _work?: JobWork): Promise<number> {
    // The work runs wherever the queue delivers the job: made there from the stored request (the kind's `resume`).
    if (!this.kinds.has(kind)) throw new Error(`no job kind ${kind} is defined`);
    return (await this.queue.enqueue(kind, request)).id;
  }

  async cancel(id: number, reason = 'cancelled'): Promise<boolean> {
    // A cancel that finds the job cancelled already (a double click, two instances) is the same request.
    const before = await this.queue.cancel(id, reason);
    if (!before) return (await this.jobs.get(id))?.status === 'cancelled';
    // A job that never started ends here (counted here); a running one ends where its work runs.
    if (before === 'queued') {
      const job = await this.jobs.get(id);
      if (job) this.events.emit('ended', { id, kind: job.kind, status: 'cancelled', seconds: (Date.now() - Date.parse(job.createdAt)) / 1000 } satisfies EndedJob);
    }
    this.stopLocal(id, reason);
    return true;
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.sweeper) clearInterval(this.sweeper);
      for (const job of [...this.running.values()]) {
        job.released = true;
        await this.queue.release(job.id, job.owner).catch((err: unknown) => warn(`job ${job.id}: could not give it back to the queue`, err));
        job.controller.abort(new Error('server stopped'));
      }
    }
    await Promise.all([...this.handling]);
    this.unlisten();
  }

  /** A cancel of a job that runs here (heard from any process): its work stops, and it stores nothing more. */
  private stopLocal(id: number, reason: string): void {
    const job = this.running.get(id);
    if (!job || job.cancelled) return;
    job.cancelled = true;
    job.lost = true;
    job.controller.abort(new Error(reason));
  }

  private onQueueEvent(event: QueueEvent): void {
    if (event.type === 'cancelled') this.stopLocal(event.id, String(event.data?.error ?? 'cancelled'));
    const name = `job:${event.id}`;
    if (this.events.listenerCount(name) === 0) return;
    if (event.type === 'progress') this.events.emit(name, { type: 'progress', data: event.data } as unknown as JobEvent);
    else if (event.type === 'failed' || event.type === 'cancelled') this.events.emit(name, { type: event.type, data: { error: String(event.data?.error ?? '') } });
    else if (event.type === 'done') {
      void this.jobs
        .get(event.id)
        .then(async (job) => (job ? this.options.doneEvent(job) : undefined))
        .then((data) => data && this.events.emit(name, { type: 'done', data }))
        .catch((err: unknown) => warn(`job ${event.id}: could not read its result`, err));
    }
  }

  /** One delivery of job `id` of `kind`: claim it and run its work (never rejects). */
  private handle(kind: string, id: number): Promise<void> {
    const handled = this.run(kind, id).catch((err: unknown) => warn(`job ${id}`, err));
    this.handling.add(handled);
    return handled.finally(() => this.handling.delete(handled));
  }

  private async run(kind: string, id: number): Promise<void> {
    const owner = `${this.queue.origin}/${randomUUID()}`;
    // Stopping: the delivery is handed back untouched (the job stays queued with a new delivery).
    if (this.closed) return this.queue.redeliver(id);
    const stored = await this.queue.claim(id, owner);
    if (!stored) return; // ended, cancelled or taken by another worker: nothing to do
    const job: RunningJob = { id, kind, owner, controller: new AbortController(), cancelled: false, lost: false, released: false, since: performance.now() };
    this.running.set(id, job);
    const heartbeat = setInterval(() => {
      this.queue.heartbeat(id, owner).then(
        (ours) => {
          if (ours || job.released) return;
          // Cancelled (a notice we missed) or handed to another worker: stop, store nothing.
          job.lost = true;
          job.controller.abort(new Error('the job was cancelled or handed to another worker'));
        },
        (err: unknown) => warn(`job ${id}: heartbeat`, err),
      );
    }, HEARTBEAT_MS);
    let writes: Promise<unknown> = Promise.resolve();
    let lastWrite = 0;
    const isCurrent = () => this.running.get(id) === job && !job.lost && !job.released;
    const hooks: JobHooks = {
      onStart: () => {},
      onProgress: (p) => {
        if (!isCurrent()) return;
        const t = performance.now();
        if (t - lastWrite <= PROGRESS_WRITE_MS && p.progress < 1) return;
        lastWrite = t;
        const bestLoss = typeof p.bestLoss === 'number' && Number.isFinite(p.bestLoss) ? p.bestLoss : null;
        const data = { ...p } as unknown as Record<string, unknown>;
        writes = writes.then(() => this.queue.progress(id, owner, p.progress, bestLoss, data)).catch((err: unknown) => warn(`job ${id}: progress`, err));
      },
      isCurrent,
      signal: job.controller.signal,
    };
    let status: EndedJob['status'] | undefined;
    try {
      let work: JobWork;
      let outcome: JobOutcome | undefined;
      let error: string | undefined;
      try {
        const definition = this.kinds.get(kind);
        if (!definition) throw new Error(`jobs of kind ${kind} cannot run here`);
        work = definition.resume(stored.request);
        outcome = await work(hooks);
      } catch (err) {
        error = (err as Error)?.message || String(err);
      }
      await writes;
      if (job.released) return; // a clean stop gave it back to the queue
      if (job.cancelled || job.lost) {
        status = job.cancelled ? 'cancelled' : undefined;
        return;
      }
      const recorded =
        outcome !== undefined
          ? await this.queue.finish(id, owner, { status: 'done', result: outcome.stored, bestLoss: outcome.bestLoss ?? null, scheduleId: outcome.scheduleId ?? null })
          : await this.queue.finish(id, owner, { status: 'failed', error: error ?? 'failed' });
      if (recorded) status = outcome !== undefined ? 'done' : 'failed';
    } finally {
      clearInterval(heartbeat);
      this.running.delete(id);
      if (status) this.events.emit('ended', { id, kind, status, seconds: (performance.now() - job.since) / 1000 } satisfies EndedJob);
    }
  }
}
