/**
 * What both job services (runner.ts in this process, queued-runner.ts through a shared queue) do the
 * same way: the job kinds, the stored jobs as read, and the events of this process (one job's
 * `job:<id>` events, and `ended` for every job that ends here).
 */
import { EventEmitter } from 'node:events';
import type { JobsRepository, StoredJob, UnfinishedCount } from '../store/types.js';
import type { EndedJob, JobEvent, JobKind } from './runner.js';

export abstract class JobServiceBase {
  protected readonly events = new EventEmitter();
  protected readonly kinds = new Map<string, JobKind>();

  constructor(protected readonly jobs: JobsRepository) {
    this.events.setMaxListeners(0);
  }

  /** Say how jobs of `kind` run (before starting or recovering any). */
  define(kind: string, definition: JobKind): void {
    this.kinds.set(kind, definition);
  }

  /** The kinds defined, e.g. for metrics that list every kind. */
  definedKinds(): string[] {
    return [...this.kinds.keys()];
  }

  /** Queued and running jobs by kind and status, as stored (every process on the store included). */
  unfinishedCounts(): Promise<UnfinishedCount[]> {
    return this.jobs.unfinishedCounts();
  }

  /** Listen to every job that ends in this process; returns the unsubscribe function. */
  onEnded(listener: (ended: EndedJob) => void): () => void {
    this.events.on('ended', listener);
    return () => this.events.off('ended', listener);
  }

  /** The job as stored, or undefined. */
  job(id: number): Promise<StoredJob | undefined> {
    return this.jobs.get(id);
  }

  /** Listen to one job's events; returns the unsubscribe function. */
  subscribe(id: number, listener: (event: JobEvent) => void): () => void {
    const name = `job:${id}`;
    this.events.on(name, listener);
    return () => this.events.off(name, listener);
  }
}
