/**
 * Worker thread that runs fit tasks, so a multi-second fit never blocks the server's event loop:
 * other requests and job progress streams keep flowing. A task is the main fit of a request (without
 * leave-one-out; with the fit's interval basis beside its report when asked), one leave-one-curve-out
 * fold (its held-out metrics and 80% interval coverage, fit-fold.ts), or the interval basis of a fit
 * stored without one (rebuilt from its curves and params). FitPool queues the folds after the main
 * fit, as background tasks, and runs them side by side. While a task runs, the worker posts its
 * progress (fraction done, in steps of at least 2%).
 */
import { FitInputError } from '../fit/options.js';
import { parentPort } from 'node:worker_threads';
import { fitMain, type CurveFitMetrics, type FitReport, type FitRequest } from '../fit/index.js';
import { getLaw } from '../laws/index.js';
import { intervalBasisOf, type IntervalBasis } from '../predict/interval-basis.js';
import { foldWithCoverage } from './fit-fold.js';

/** What a fit task asks for: the main fit of a request, one leave-one-out fold, or a stored fit's interval basis. */
export type FitTaskBody = { request: FitRequest } & (
  | { kind: 'main'; intervalBasis?: boolean }
  | { kind: 'fold'; fold: number }
  | { kind: 'basis'; params: number[] }
);
export type FitTask = FitTaskBody & { id: number };

export type FitTaskResult =
  | { id: number; ok: true; kind: 'main'; report: FitReport; basis: IntervalBasis | null; basisMs: number }
  | { id: number; ok: true; kind: 'fold'; metrics: CurveFitMetrics; coverage80: number | null }
  | { id: number; ok: true; kind: 'basis'; basis: IntervalBasis }
  | { id: number; ok: false; name: string; message: string; field?: string };

export interface FitTaskProgress {
  id: number;
  progress: number;
}

/**
 * The basis of a fit just made (35-200 ms). A basis that cannot be built (a numerical corner) leaves
 * the fit without one, never fails it: the first interval asked for rebuilds it, and says why if it cannot.
 */
function basisBeside(request: FitRequest, report: FitReport): IntervalBasis | null {
  try {
    return intervalBasisOf(request, report);
  } catch {
    return null;
  }
}

/** The basis of a stored fit from its request and params (the report's other fields are not needed). */
function rebuiltBasis(request: FitRequest, params: number[]): IntervalBasis {
  const estimates = getLaw(request.law).params.map((spec, j) => ({ name: spec.name, value: params[j]!, stderr: NaN, min: spec.min, max: spec.max }));
  return intervalBasisOf(request, { params: estimates });
}

function runTask(task: FitTask, onProgress: (fraction: number) => void): FitTaskResult {
  switch (task.kind) {
    case 'main': {
      const report = fitMain(task.request, onProgress);
      const started = performance.now();
      const basis = task.intervalBasis ? basisBeside(task.request, report) : null;
      return { id: task.id, ok: true, kind: 'main', report, basis, basisMs: performance.now() - started };
    }
    case 'fold': {
      const { metrics, coverage80 } = foldWithCoverage(task.request, task.fold, onProgress);
      return { id: task.id, ok: true, kind: 'fold', metrics, coverage80 };
    }
    case 'basis':
      return { id: task.id, ok: true, kind: 'basis', basis: rebuiltBasis(task.request, task.params) };
  }
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
    reply = runTask(task, onProgress);
  } catch (error) {
    const e = error as Error;
    reply = { id: task.id, ok: false, name: e.name, message: e.message, ...(e instanceof FitInputError ? { field: e.field } : {}) };
  }
  parentPort!.postMessage(reply);
});
