/**
 * Worker thread that runs schedule searches (OptimizePool, search-pool.ts), so neither the TF.js search nor
 * the full-length float64 evaluations around it (baselines, the answer: seconds at millions of
 * steps) block the server's event loop. One search at a time per worker; progress is posted as it
 * comes. The result's per-step lrs travel as a transferred Float64Array and, on request, also as
 * transferred UTF-8 JSON text: serializing millions of them takes a thread a few hundred ms.
 */
import { parentPort } from 'node:worker_threads';
import { initBackend, runSearch, OptimizeRequestError, type OptimizeOutcome, type OptimizeProgress, type OptimizeRequest } from '../optimize/index.js';
import type { AnswerIntervalSource } from '../optimize/answer-interval.js';

export interface OptimizeTask {
  id: number;
  request: OptimizeRequest;
  seed?: number;
  /** Also send the lrs as a JSON array text. */
  lrsJson?: boolean;
  /** A stored fit's interval basis and a level: the answer gets prediction intervals. */
  interval?: AnswerIntervalSource;
}

export type OptimizeTaskResult =
  | { id: number; ok: true; outcome: OptimizeOutcome; lrsJson?: Uint8Array }
  | { id: number; ok: false; name: string; message: string; field?: string };

export interface OptimizeTaskProgress {
  id: number;
  progress: OptimizeProgress;
}

// Load the backend now, so a worker started ahead of its first task is ready for it.
void initBackend().catch(() => undefined);

parentPort!.on('message', (task: OptimizeTask) => {
  const onProgress = (progress: OptimizeProgress) => parentPort!.postMessage({ id: task.id, progress } satisfies OptimizeTaskProgress);
  runSearch(task.request, { onProgress, seed: task.seed, interval: task.interval }).then(
    (outcome) => {
      // TextEncoder gives the bytes their own buffer (Buffer.from may share a pool), so it can be transferred.
      const lrsJson = task.lrsJson ? new TextEncoder().encode(JSON.stringify(Array.from(outcome.lrs))) : undefined;
      const transfer = [outcome.lrs.buffer, ...(lrsJson ? [lrsJson.buffer] : [])] as ArrayBuffer[];
      parentPort!.postMessage({ id: task.id, ok: true, outcome, lrsJson } satisfies OptimizeTaskResult, transfer);
    },
    (error: Error) =>
      parentPort!.postMessage({
        id: task.id,
        ok: false,
        name: error.name,
        message: error.message,
        ...(error instanceof OptimizeRequestError ? { field: error.field } : {}),
      } satisfies OptimizeTaskResult),
  );
});
