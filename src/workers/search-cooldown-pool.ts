/**
 * Runs cooldown plans on worker threads (search-cooldown-worker.ts, on WorkerPool: pool.ts), for the
 * plans the route does not run inline (src/optimize/cooldown.ts PLAN_LIMITS). At most two workers:
 * plans are bounded to seconds, more wait in arrival order. Aborting a plan drops it while it waits
 * and ends its worker while it runs.
 */
import { AbortError } from '../optimize/search.js';
import { OptimizeRequestError } from '../optimize/request-error.js';
import type { CooldownPlanRequest } from '../optimize/cooldown.js';
import type { PlanIntervalSource } from '../optimize/cooldown-interval.js';
import { defaultPoolSize, WorkerPool, type TaskFailure } from './pool.js';
import type { CooldownTask, CooldownTaskResult } from './search-cooldown-worker.js';

/** A task's error as thrown in the worker: OptimizeRequestError keeps its field. */
function taskError(msg: TaskFailure): Error {
  if (msg.field !== undefined) return new OptimizeRequestError(msg.message, msg.field);
  return Object.assign(new Error(msg.message), { name: msg.name });
}

export class CooldownPool {
  private readonly pool: WorkerPool<Omit<CooldownTask, 'id'>, Extract<CooldownTaskResult, { ok: true }>, never>;

  constructor(size = Math.min(2, defaultPoolSize())) {
    this.pool = new WorkerPool({ entry: new URL('./search-cooldown-worker.ts', import.meta.url), name: 'plan-cooldown', size, decodeError: taskError });
  }

  /** Start one worker ahead of the first plan, if none is running (about a second to load the code). */
  warm(): void {
    this.pool.warm();
  }

  /** The plan of `request` as UTF-8 JSON; rejects with OptimizeRequestError for a bad request, AbortError when `signal` aborts. */
  async run(request: CooldownPlanRequest, interval: PlanIntervalSource | undefined, signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) throw new AbortError();
    const group = {};
    const onAbort = () => this.pool.cancelGroup(group, new AbortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return (await this.pool.run({ request, ...(interval ? { interval } : {}) }, { group })).json;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
