/**
 * Worker thread that computes predictions (PredictPool, predict-pool.ts), so that a prediction of
 * more than a few ms never blocks the server's event loop. It expands the schedule (with its own
 * cache of recent schedules), evaluates the law and serializes the answer here: the main thread
 * only sends the bytes, transferred, not copied. An error keeps what the route needs to answer it:
 * its class name, an HttpProblem's status and field, a ScheduleError's key.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { HttpProblem } from '../errors.js';
import { ScheduleError } from '../schedule/spec.js';
import { predictionJson, type PredictTask } from '../predict/compute.js';

export type PredictTaskMessage = { task: PredictTask } & { id: number };

export type PredictTaskResult =
  | { id: number; ok: true; json: Uint8Array }
  | { id: number; ok: false; name: string; message: string; field?: string; status?: number; extra?: Record<string, unknown> };

/**
 * Nice value of this thread. On Linux the nice value is per thread (setpriority on pid 0 sets the
 * calling thread's): the event loop, at 0, gets the CPU first whenever both want it, so /health and
 * cached answers stay quick while the cores compute predictions. Elsewhere it would lower the whole
 * process: left alone there.
 */
const WORKER_NICE = 10;
if (process.platform === 'linux') {
  try {
    setPriority(0, WORKER_NICE);
  } catch {
    // not permitted here: the thread runs at the process's priority
  }
}

/** What of an error crosses back: HttpProblem's status, field and extra; ScheduleError's key as the field. */
function failure(id: number, error: unknown): PredictTaskResult {
  const e = error instanceof Error ? error : new Error(String(error));
  if (e instanceof HttpProblem) return { id, ok: false, name: e.name, message: e.message, field: e.field, status: e.status, extra: e.extra };
  if (e instanceof ScheduleError) return { id, ok: false, name: e.name, message: e.message, field: e.key };
  return { id, ok: false, name: e.name, message: e.message };
}

parentPort!.on('message', ({ id, task }: PredictTaskMessage) => {
  let reply: PredictTaskResult;
  try {
    reply = { id, ok: true, json: predictionJson(task) };
  } catch (error) {
    reply = failure(id, error);
  }
  parentPort!.postMessage(reply, reply.ok ? [reply.json.buffer as ArrayBuffer] : []);
});
