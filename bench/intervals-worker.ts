/**
 * Worker thread of the interval benchmark (bench/intervals.ts, through src/workers/pool.ts): fits
 * one transfer protocol and posts its held-out points' records (intervals-collect.ts).
 */
import { parentPort } from 'node:worker_threads';
import type { FitOptions } from '../src/fit/types.js';
import { collectProtocol } from './intervals-collect.js';
import type { TransferProtocol } from './transfer-protocols.js';

parentPort!.on('message', (task: { id: number; protocol: TransferProtocol; law: 'mpl' | 'lra'; options: FitOptions }) => {
  try {
    parentPort!.postMessage({ id: task.id, ok: true, records: collectProtocol(task.protocol, task.law, task.options) });
  } catch (error) {
    const e = error as Error;
    parentPort!.postMessage({ id: task.id, ok: false, name: e.name, message: e.message });
  }
});
