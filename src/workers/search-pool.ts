/**
 * Runs schedule searches on worker threads (search-worker.ts, on WorkerPool: pool.ts), kept
 * for later searches: about 0.7 s to start one (tsx, TF.js, its backend), which `warm()` can spend
 * ahead. One search per worker; more wait in arrival order (their budget starts when they start).
 * Aborting a search ends its worker at once (a full-length float64 evaluation can take seconds and
 * does not look at the signal); a new one starts when needed.
 */
import { AbortError } from '../optimize/search.js';
import { OptimizeRequestError, type OptimizeOptions, type OptimizeOutcome, type OptimizeProgress, type OptimizeRequest } from '../optimize/index.js';
import { defaultPoolSize, WorkerPool, type TaskFailure } from './pool.js';
import type { OptimizeTask, OptimizeTaskResult } from './search-worker.js';

/** Options of a search on the pool: with `lrsJson`, the outcome also carries its lrs as JSON text. */
export interface PoolRunOptions extends OptimizeOptions {
  lrsJson?: boolean;
}

/** The outcome of a search, with its lrs as UTF-8 JSON text (a JSON array) when asked. */
export type PoolOutcome = OptimizeOutcome & { lrsJson?: Uint8Array };

/** A task's error as thrown in the worker: OptimizeRequestError (with its field) and AbortError keep their class. */
function taskError(msg: TaskFailure): Error {
  if (msg.field !== undefined) return new OptimizeRequestError(msg.message, msg.field);
  if (msg.name === 'AbortError') return new AbortError(msg.message);
  return Object.assign(new Error(msg.message), { name: msg.name });
}

/** Default pool size: one worker per core, at most 4. */
export const defaultOptimizeWorkers = defaultPoolSize;

export class OptimizePool {
  private readonly pool: WorkerPool<Omit<OptimizeTask, 'id'>, Extract<OptimizeTaskResult, { ok: true }>, OptimizeProgress>;

  constructor(size = defaultOptimizeWorkers()) {
    this.pool = new WorkerPool({ entry: new URL('./search-worker.ts', import.meta.url), name: 'optimize', size, decodeError: taskError });
  }

  /** Start one worker ahead of the first search, if none is running. */
  warm(): void {
    this.pool.warm();
  }

  /**
   * `runSearch` on a worker thread. Aborting `signal` rejects at once with AbortError (a
   * queued search is dropped, a running one's worker ended).
   */
  async run(request: OptimizeRequest, options: PoolRunOptions = {}): Promise<PoolOutcome> {
    const { signal, onProgress, seed, lrsJson, interval } = options;
    if (signal?.aborted) throw new AbortError();
    const group = {};
    const onAbort = () => this.pool.cancelGroup(group, new AbortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const done = await this.pool.run({ request, seed, lrsJson, ...(interval ? { interval } : {}) }, { group, onProgress });
      return done.lrsJson ? { ...done.outcome, lrsJson: done.lrsJson } : done.outcome;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
