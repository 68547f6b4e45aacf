/**
 * Worker thread that runs fit tasks, so a multi-second fit never blocks the server's event loop:
 * other requests and job progress streams keep flowing. A task is either the main fit of a request
 * (without leave-one-out) or one leave-one-curve-out fold; FitPool queues the folds after the main
 * fit, as background tasks, and runs them side by side. While a
 * task runs, the worker posts its progress (fraction done, in steps of at least 2%).
 */
import { FitInputError } from '../fit/options.js';
import { parentPort } from 'node:worker_threads';
import { fitMain, leaveOneOutFold, type CurveFitMetrics, type FitReport, type FitRequest } from '../fit/index.js';

/** What a fit task asks for: the main fit of a request, or one leave-one-out fold. */
export type FitTaskBody = { request: FitRequest } & ({ kind: 'main' } | { kind: 'fold'; fold: number });
export type FitTask = FitTaskBody & { id: number };

export type FitTaskResult =
  | { id: number; ok: true; kind: 'main'; report: FitReport }
  | { id: number; ok: true; kind: 'fold'; metrics: CurveFitMetrics }
  | { id: number; ok: false; name: string; message: string; field?: string };

export interface FitTaskProgress {
  id: number;
  progress: number;
}

parentPort!.on('message', (task: FitTask) => {
  let posted = 0;
  const onProgress = (fraction: number) => {
    if (fraction - posted < 0.02 || fraction >= 1) return;
    posted = fraction;
    parentPort!.postMessage({ id: task.id, progress: fraction } satisfies FitTaskProgress);
  };
  let reply: FitTaskResult;
  try {
    reply =
      task.kind === 'main'
        ? { id: task.id, ok: true, kind: 'main', report: fitMain(task.request, onProgress) }
        : { id: task.id, ok: true, kind: 'fold', metrics: leaveOneOutFold(task.request, task.fold, onProgress) };
  } catch (error) {
    const e = error as Error;
    reply = { id: task.id, ok: false, name: e.name, message: e.message, ...(e instanceof FitInputError ? { field: e.field } : {}) };
  }
  parentPort!.postMessage(reply);
});
