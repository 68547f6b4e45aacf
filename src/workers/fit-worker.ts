/**
 * Worker thread that runs law fits, so a multi-second fit (leave-one-out refits included) never
 * blocks the server's event loop: other requests and job progress streams keep flowing.
 */
import { parentPort } from 'node:worker_threads';
import { fitLaw, formatReport, type FitRequest } from '../fit/index.js';

export interface FitTask {
  id: number;
  request: FitRequest;
}

export type FitTaskResult =
  | { id: number; ok: true; report: ReturnType<typeof fitLaw>; text: string }
  | { id: number; ok: false; name: string; message: string };

parentPort!.on('message', ({ id, request }: FitTask) => {
  let reply: FitTaskResult;
  try {
    const report = fitLaw(request);
    reply = { id, ok: true, report, text: formatReport(report) };
  } catch (error) {
    const e = error as Error;
    reply = { id, ok: false, name: e.name, message: e.message };
  }
  parentPort!.postMessage(reply);
});
