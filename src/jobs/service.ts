/**
 * What the routes, metrics and app use of the jobs of a process, whichever runs them: JobRunner
 * (runner.ts: in this process, the single-process default on SQLite) or QueuedJobRunner
 * (queued-runner.ts: through the durable queue of a PostgreSQL store, on any worker process).
 */
import type { StoredJob, UnfinishedCount } from '../store/types.js';
import type { EndedJob, JobEvent, JobKind, JobWork, Recovery } from './runner.js';

export interface JobService {
  /**
   * True when this process is the only one on its store: what a previous process left unfinished
   * (e.g. leave-one-out metrics still pending) is its to clean up at start. False when other
   * processes share the store (LRCAST_ROLE=api or worker): their work in progress is not ours.
   */
  readonly exclusive: boolean;
  /**
   * True when this process runs no jobs (LRCAST_ROLE=api): a synchronous request's work goes
   * through the queue to a worker too, and the request waits for it (await-job.ts).
   */
  readonly enqueueOnly: boolean;
  /** Say how jobs of `kind` run (before starting or recovering any). */
  define(kind: string, definition: JobKind): void;
  /** The kinds defined, e.g. for metrics that list every kind. */
  definedKinds(): string[];
  /** On start, once every kind is defined: take up the jobs left unfinished (or start working on the queue). */
  recover(): Promise<Recovery>;
  /** Store a queued job of `kind` for `request` and get it run; resolves to its id. `work`: its work, when it runs here (default: the kind's). */
  start(kind: string, request: Record<string, unknown>, work?: JobWork): Promise<number>;
  /** Queued and running jobs by kind and status, as stored (every process on the store included). */
  unfinishedCounts(): Promise<UnfinishedCount[]>;
  /** Listen to every job that ends in this process; returns the unsubscribe function. */
  onEnded(listener: (ended: EndedJob) => void): () => void;
  /** The job as stored, or undefined. */
  job(id: number): Promise<StoredJob | undefined>;
  /** Cancel a job that has not ended, with `reason` as its error; false when it cannot be cancelled from here. */
  cancel(id: number, reason?: string): Promise<boolean>;
  /** Listen to one job's events; returns the unsubscribe function. */
  subscribe(id: number, listener: (event: JobEvent) => void): () => void;
  /** Stop for a clean shutdown (idempotent): the running work stops and its jobs wait again for the next start. */
  close(): Promise<void>;
}
