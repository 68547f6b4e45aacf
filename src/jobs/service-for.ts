/**
 * The jobs of a process for its store: on SQLite, JobRunner (everything in this one process); on
 * PostgreSQL, QueuedJobRunner on the store's durable queue, in the process's role.
 */
import { availableParallelism } from 'node:os';
import type { Store, StoredJob } from '../store/types.js';
import { JobRunner, MAX_ATTEMPTS } from './runner.js';
import { QueuedJobRunner, type Role } from './queued-runner.js';
import type { JobService } from './service.js';

export type { Role };
export const ROLES: readonly Role[] = ['all', 'api', 'worker'];

/** How this process takes part in the jobs (LRCAST_ROLE and the LRCAST_WORKER_* / LRCAST_JOB_* settings). */
export interface JobsOptions {
  /** Default `all`. */
  role?: Role;
  /** The kinds a worker takes; unset: every kind. */
  kinds?: string[];
  /** Jobs of each kind a worker runs at once; unset: fits, one per core (at most 4); searches, one. */
  concurrency?: number;
  /** Starts of a job (its worker died) before it fails; default 2, as a restart on SQLite. */
  maxAttempts?: number;
  /** Seconds without a heartbeat after which a running job's worker counts as dead; default 10. */
  staleSeconds?: number;
}

/** Fits run on a pool of threads, one per core (at most 4); a search uses its threads on its own. */
function defaultConcurrency(kind: string): number {
  return kind === 'fit' ? Math.max(1, Math.min(availableParallelism(), 4)) : 1;
}

export function jobServiceFor(store: Store, options: JobsOptions, doneEvent: (job: StoredJob) => Promise<Record<string, unknown>>): JobService {
  const role = options.role ?? 'all';
  if (!store.queue) {
    if (role !== 'all') throw new Error(`LRCAST_ROLE=${role} needs a shared database (LRCAST_DATABASE_URL=postgres://...): on SQLite one process serves the API and runs the jobs`);
    return new JobRunner(store.jobs);
  }
  return new QueuedJobRunner(store.jobs, store.queue, {
    role,
    kinds: options.kinds,
    concurrency: (kind) => options.concurrency ?? defaultConcurrency(kind),
    maxAttempts: options.maxAttempts ?? MAX_ATTEMPTS,
    staleMs: (options.staleSeconds ?? 10) * 1000,
    doneEvent,
  });
}
