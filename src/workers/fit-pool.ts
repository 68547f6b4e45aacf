/**
 * Runs fits on one lazily started worker thread (src/workers/fit-worker.ts), one at a time in
 * arrival order. The worker is unref'd while idle so it never keeps the process alive.
 */
import { Worker } from 'node:worker_threads';
import type { FitReport, FitRequest } from '../fit/index.js';
import type { FitTaskResult } from './fit-worker.js';

type Pending = { resolve: (r: { report: FitReport; text: string }) => void; reject: (e: Error) => void };

export class FitPool {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private start(): Worker {
    // Worker threads do not inherit tsx's loader hooks: a small .mjs entry registers them first.
    const worker = new Worker(new URL('./tsx-bootstrap.mjs', import.meta.url), {
      workerData: { entry: new URL('./fit-worker.ts', import.meta.url).href },
    });
    worker.on('message', (msg: FitTaskResult) => {
      const task = this.pending.get(msg.id);
      if (!task) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) worker.unref();
      if (msg.ok) task.resolve({ report: msg.report, text: msg.text });
      else task.reject(Object.assign(msg.name === 'RangeError' ? new RangeError(msg.message) : new Error(msg.message), { name: msg.name }));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      this.worker = undefined;
      if (this.pending.size > 0) this.failAll(new Error(`fit worker exited with code ${code}`));
    });
    return worker;
  }

  private failAll(error: Error): void {
    for (const task of this.pending.values()) task.reject(error);
    this.pending.clear();
  }

  /** Fit in the worker; rejects with the worker's error (RangeError for unusable input). */
  run(request: FitRequest): Promise<{ report: FitReport; text: string }> {
    this.worker ??= this.start();
    this.worker.ref();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
