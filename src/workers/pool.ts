/**
 * A pool of worker threads, each running one task at a time; the fit pool (fit-pool.ts) and the
 * schedule search pool (search-pool.ts) are built on it. Workers start on demand (or ahead,
 * with `warm`) up to the pool size and are kept for later tasks; tasks start in arrival order, except
 * that background tasks (`background: true`, e.g. a fit's leave-one-out folds) start only when no
 * other task is queued: a later ordinary task overtakes queued background ones (a running task is
 * never interrupted for it). A cancelled task is dropped while queued, or its worker is ended at
 * once while it runs (a long numeric loop does not look at signals) and replaced on demand. Idle
 * workers are unref'd so they never keep the process alive.
 *
 * The worker's side of the protocol: it receives `{id, ...task}` and posts `{id, progress}` any
 * number of times, then `{id, ok: true, ...}` or `{id, ok: false, name, message, field?}`.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** A worker's final message about a task. */
export type TaskReply = { id: number; ok: true } | TaskFailure;
export interface TaskFailure {
  id: number;
  ok: false;
  name: string;
  message: string;
  /** The request field at fault, for input errors. */
  field?: string;
}

interface TaskProgress<Progress> {
  id: number;
  progress: Progress;
}

/** How a task is followed: its group (cancelled together), progress and start. */
export interface TaskHooks<Progress> {
  /** Tasks of one group are cancelled together (`cancelGroup`). */
  group?: object;
  onProgress?: (progress: Progress) => void;
  /** Called when the task reaches a worker. */
  onStart?: () => void;
  /** Queue the task behind every ordinary (not background) task, queued now or later; FIFO among background tasks. */
  background?: boolean;
}

interface Queued<Task, Done, Progress> extends TaskHooks<Progress> {
  message: Task & { id: number };
  transfer: ArrayBuffer[];
  resolve: (reply: Done) => void;
  reject: (error: Error) => void;
}

interface PoolWorker<Task, Done, Progress> {
  worker: Worker;
  busy: Queued<Task, Done, Progress> | undefined;
}

/** Default pool size: one worker per core, at most 4. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

export interface WorkerPoolOptions {
  /** The worker's TypeScript entry module. */
  entry: URL;
  /** What the pool runs, for error messages ("fit", "optimize"). */
  name: string;
  size?: number;
  /** The error a failure reply rejects with (to keep error classes across the thread boundary). */
  decodeError: (failure: TaskFailure) => Error;
}

export class WorkerPool<Task extends object, Done extends { id: number; ok: true }, Progress> {
  private readonly workers: PoolWorker<Task, Done, Progress>[] = [];
  private readonly queue: Queued<Task, Done, Progress>[] = [];
  private readonly size: number;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {
    this.size = options.size ?? defaultPoolSize();
  }

  private startWorker(): PoolWorker<Task, Done, Progress> {
    // Worker threads do not inherit tsx's loader hooks: a small .mjs entry registers them first.
    const worker = new Worker(new URL('./tsx-bootstrap.mjs', import.meta.url), { workerData: { entry: this.options.entry.href } });
    const entry: PoolWorker<Task, Done, Progress> = { worker, busy: undefined };
    worker.on('message', (msg: (Done | TaskFailure) | TaskProgress<Progress>) => {
      const job = entry.busy;
      if (this.closed || msg.id !== job?.message.id) return;
      if ('progress' in msg) {
        job.onProgress?.(msg.progress);
        return;
      }
      entry.busy = undefined;
      if (msg.ok) job.resolve(msg);
      else job.reject(this.options.decodeError(msg));
      this.dispatch();
    });
    const fail = (error: Error) => {
      this.drop(entry);
      entry.busy?.reject(error);
      entry.busy = undefined;
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`${this.options.name} worker exited with code ${code}`)));
    this.workers.push(entry);
    return entry;
  }

  private drop(entry: PoolWorker<Task, Done, Progress>): void {
    const index = this.workers.indexOf(entry);
    if (index >= 0) this.workers.splice(index, 1);
  }

  /** Hand queued tasks to idle workers, starting workers up to the pool size. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let free = this.workers.find((w) => !w.busy);
      if (!free && this.workers.length < this.size) free = this.startWorker();
      if (!free) break;
      const job = this.queue.shift()!;
      free.busy = job;
      free.worker.ref();
      free.worker.postMessage(job.message, job.transfer);
      job.onStart?.();
    }
    for (const w of this.workers) if (!w.busy) w.worker.unref();
  }

  /** Start one worker ahead of the first task, if none is running. */
  warm(): void {
    if (this.closed || this.workers.length > 0) return;
    this.startWorker().worker.unref();
  }

  /** Run `task` on a worker; resolves with the worker's success reply, rejects with its (decoded) error. */
  run(task: Task, hooks: TaskHooks<Progress> = {}, transfer: ArrayBuffer[] = []): Promise<Done> {
    if (this.closed) return Promise.reject(new Error(`the ${this.options.name} pool is closed`));
    return new Promise((resolve, reject) => {
      const job: Queued<Task, Done, Progress> = { ...hooks, message: { ...task, id: this.nextId++ }, transfer, resolve, reject };
      // Ordinary tasks go before the first queued background task: FIFO within each kind.
      const firstBackground = hooks.background ? -1 : this.queue.findIndex((q) => q.background);
      if (firstBackground < 0) this.queue.push(job);
      else this.queue.splice(firstBackground, 0, job);
      this.dispatch();
    });
  }

  /** Drop the queued tasks of `group` and end the workers busy with its running ones; they reject with `reason`. */
  cancelGroup(group: object, reason: Error): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.group === group) this.queue.splice(i, 1)[0]!.reject(reason);
    }
    for (const w of [...this.workers]) {
      if (w.busy?.group !== group) continue;
      const job = w.busy;
      w.busy = undefined;
      this.drop(w);
      job.reject(reason);
      void w.worker.terminate();
    }
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    const reason = new Error(`the ${this.options.name} pool is closed`);
    for (const job of this.queue.splice(0)) job.reject(reason);
    await Promise.all(
      this.workers.splice(0).map((w) => {
        w.busy?.reject(reason);
        return w.worker.terminate();
      }),
    );
  }
}
