/**
 * Worker thread of the transfer benchmark (started by runTransfer in transfer-run.ts through
 * src/workers/pool.ts): fits one method on one protocol and posts its scores. A failing fit is
 * reported inside the outcome (`error`), so the pool only sees crashes.
 */
import { parentPort } from 'node:worker_threads';
import { runTask } from './transfer-run.js';
import type { TransferMethod } from './transfer-methods.js';
import type { TransferProtocol } from './transfer-protocols.js';

parentPort!.on('message', (task: { id: number; protocol: TransferProtocol; method: TransferMethod }) => {
  try {
    parentPort!.postMessage({ id: task.id, ok: true, outcome: runTask(task.protocol, task.method) });
  } catch (error) {
    const e = error as Error;
    parentPort!.postMessage({ id: task.id, ok: false, name: e.name, message: e.message });
  }
});
