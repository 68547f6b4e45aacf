/**
 * Worker thread that runs cooldown plans (CooldownPool, search-cooldown-pool.ts) too big to run
 * inline: a plan of thousands of candidates after a long prefix takes up to seconds of law terms,
 * and its answer (up to 20,000 grid entries) is serialized here, so the main thread only sends bytes.
 */
import { parentPort } from 'node:worker_threads';
import { planCooldown, type CooldownPlanRequest } from '../optimize/cooldown.js';
import { OptimizeRequestError } from '../optimize/request-error.js';
import { planInterval, type PlanIntervalSource } from '../optimize/cooldown-interval.js';

export interface CooldownTask {
  id: number;
  request: CooldownPlanRequest;
  /** The fit's interval basis and level, for lower/upper of the best plan and the references. */
  interval?: PlanIntervalSource;
}

export type CooldownTaskResult = { id: number; ok: true; json: Uint8Array } | { id: number; ok: false; name: string; message: string; field?: string };

parentPort!.on('message', (task: CooldownTask) => {
  let reply: CooldownTaskResult;
  try {
    // TextEncoder gives the bytes their own buffer, so they can be transferred.
    reply = { id: task.id, ok: true, json: new TextEncoder().encode(JSON.stringify(planCooldown(task.request, task.interval ? { interval: planInterval(task.interval) } : {}))) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    reply = { id: task.id, ok: false, name: e.name, message: e.message, ...(e instanceof OptimizeRequestError ? { field: e.field } : {}) };
  }
  parentPort!.postMessage(reply, reply.ok ? [reply.json.buffer as ArrayBuffer] : []);
});
