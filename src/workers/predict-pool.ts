/**
 * Runs predictions on worker threads (predict-worker.ts, on WorkerPool: pool.ts), so that /predict
 * never holds the event loop for more than a few ms. At least two workers, so that one heavy
 * prediction (seconds, up to about 1 GB for a 10,000,000-step schedule) leaves a worker to the
 * ordinary ones; heavy ones run one at a time, the others wait for their turn in arrival order.
 * A heavy prediction whose client is gone is dropped while it waits and its worker ended while it runs.
 */
import { HttpProblem } from '../errors.js';
import { getLaw, LAW_IDS } from '../laws/index.js';
import { parseSpecText, ScheduleError } from '../schedule/spec.js';
import type { PredictTask } from '../predict/compute.js';
import { defaultPoolSize, WorkerPool, type TaskFailure } from './pool.js';
import type { PredictTaskResult } from './predict-worker.js';

type Done = Extract<PredictTaskResult, { ok: true }>;
type Failure = Extract<PredictTaskResult, { ok: false }>;

/** A task's error as thrown in the worker: HttpProblem (status, field) and ScheduleError (key) keep their class. */
function taskError(msg: TaskFailure): Error {
  const { name, message, field, status, extra } = msg as Failure;
  if (name === 'ScheduleError') return new ScheduleError(message, field);
  if (status !== undefined) return new HttpProblem(status, message, field, extra);
  return Object.assign(name === 'RangeError' ? new RangeError(message) : new Error(message), { name });
}

/** Default pool size: one worker per core, at most 4, at least 2. */
export const defaultPredictWorkers = () => Math.max(2, defaultPoolSize());

export interface PredictRunOptions {
  /** One heavy prediction at a time. */
  heavy?: boolean;
  /** Aborting drops the prediction (or ends its worker) and rejects with the abort reason. */
  signal?: AbortSignal;
}

/** A small prediction (a few ms) that makes a worker load and compile the prediction code. */
function warmUpTask(): PredictTask {
  const law = LAW_IDS[0];
  return { law, params: getLaw(law).params.map((p) => p.init), lawOptions: {}, spec: parseSpecText('cosine:peak=1e-3,warmup=500,total=24000') };
}

/** Warm-up predictions per worker: enough for the hot loops to be compiled before the first request. */
const WARM_UP_TASKS = 4;

export class PredictPool {
  private readonly pool: WorkerPool<{ task: PredictTask }, Done, never>;
  private heavyBusy = false;
  private readonly heavyWaiting: (() => void)[] = [];

  constructor(private readonly size = defaultPredictWorkers()) {
    this.pool = new WorkerPool({ entry: new URL('./predict-worker.ts', import.meta.url), name: 'predict', size, decodeError: taskError });
  }

  /**
   * Start every worker ahead of the first predictions, each with a small one: loading and compiling
   * the code takes a worker about a second, which would otherwise fall on the first requests.
   */
  warm(): void {
    for (let i = 0; i < this.size * WARM_UP_TASKS; i++) this.pool.run({ task: warmUpTask() }).catch(() => undefined);
  }

  /** The answer to `task` as UTF-8 JSON; rejects with the task's error (HttpProblem, ScheduleError, ...). */
  async run(task: PredictTask, options: PredictRunOptions = {}): Promise<Uint8Array> {
    const { heavy = false, signal } = options;
    signal?.throwIfAborted();
    if (heavy) await this.takeHeavyTurn(signal);
    const group = {};
    const onAbort = () => this.pool.cancelGroup(group, signal!.reason instanceof Error ? signal!.reason : new Error('prediction cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return (await this.pool.run({ task }, { group })).json;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (heavy) this.passHeavyTurn();
    }
  }

  /** Wait until no other heavy prediction runs (FIFO); rejects when `signal` aborts first. */
  private takeHeavyTurn(signal: AbortSignal | undefined): Promise<void> {
    if (!this.heavyBusy) {
      this.heavyBusy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.heavyWaiting.indexOf(start);
        if (index >= 0) this.heavyWaiting.splice(index, 1);
        reject(signal!.reason instanceof Error ? signal!.reason : new Error('prediction cancelled'));
      };
      const start = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.heavyWaiting.push(start);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hand the heavy turn to the next waiting prediction, if any. */
  private passHeavyTurn(): void {
    const next = this.heavyWaiting.shift();
    if (next) next();
    else this.heavyBusy = false;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
