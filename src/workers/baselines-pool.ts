/**
 * Runs the baselines of GET /baselines on worker threads (baselines-worker.ts, on WorkerPool:
 * pool.ts). At most two workers: each task is bounded by the run length (33 law evaluations of
 * totalSteps), more wait in arrival order. Aborting drops a task while it waits and ends its worker
 * while it runs.
 */
import { AbortError } from '../optimize/search.js';
import type { BaselineRequest, Baselines } from '../optimize/baselines.js';
import { defaultPoolSize, WorkerPool, type TaskFailure } from './pool.js';
import type { BaselinesTask, BaselinesTaskResult } from './baselines-worker.js';

export class BaselinesPool {
  private readonly pool: WorkerPool<Omit<BaselinesTask, 'id'>, Extract<BaselinesTaskResult, { ok: true }>, never>;

  constructor(size = Math.min(2, defaultPoolSize())) {
    const decodeError = (msg: TaskFailure) => Object.assign(new Error(msg.message), { name: msg.name });
    this.pool = new WorkerPool({ entry: new URL('./baselines-worker.ts', import.meta.url), name: 'baselines', size, decodeError });
  }

  /** Start one worker ahead of the first request (about a second to load the code). */
  warm(): void {
    this.pool.warm();
  }

  /** The baselines of `request`; rejects with AbortError when `signal` aborts first. */
  async run(request: Omit<BaselineRequest, 'fixedLrs'>, signal?: AbortSignal): Promise<Baselines> {
    if (signal?.aborted) throw new AbortError();
    const group = {};
    const onAbort = () => this.pool.cancelGroup(group, new AbortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return (await this.pool.run({ request }, { group })).baselines;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
