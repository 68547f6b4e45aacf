/**
 * Worker thread that computes the optimize baselines for GET /baselines (BaselinesPool,
 * baselines-pool.ts): 33 full-length float64 law evaluations, about 0.1 s at 24,000 steps and
 * seconds at millions, which must not hold the server's event loop.
 */
import { parentPort } from 'node:worker_threads';
import { computeBaselines, type BaselineRequest, type Baselines } from '../optimize/baselines.js';

export interface BaselinesTask {
  id: number;
  request: Omit<BaselineRequest, 'fixedLrs'>;
}

export type BaselinesTaskResult = { id: number; ok: true; baselines: Baselines } | { id: number; ok: false; name: string; message: string };

parentPort!.on('message', ({ id, request }: BaselinesTask) => {
  let reply: BaselinesTaskResult;
  try {
    reply = { id, ok: true, baselines: computeBaselines(request) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    reply = { id, ok: false, name: e.name, message: e.message };
  }
  parentPort!.postMessage(reply);
});
