/**
 * A synchronous request served through the queue: an API instance that only enqueues
 * (LRCAST_ROLE=api) starts the request's job like an `async=1` one, then waits for its end to answer
 * as a single process would. A client that goes away cancels the job.
 */
import { HttpProblem } from '../errors.js';
import type { StoredJob } from '../store/types.js';
import type { JobService } from './service.js';

/**
 * The `done` data of job `id` (as its `done` event carries it; `resultOf` makes it from the stored job
 * when the job ended before we listened). A failed job is a 422 with its error; a cancelled one, or an
 * abort of `signal` (the job is cancelled then), rejects with `signal`'s reason or a 409.
 */
export function awaitJob(jobs: JobService, id: number, signal: AbortSignal, resultOf: (job: StoredJob) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const failed = (error: string) => new HttpProblem(422, `job ${id} failed: ${error}`, undefined, { jobId: id });
    const cancelled = (error: string) => new HttpProblem(409, `job ${id} was cancelled: ${error}`, undefined, { jobId: id });
    const unsubscribe = jobs.subscribe(id, (event) => {
      if (event.type === 'done') settle(() => resolve(event.data));
      else if (event.type === 'failed') settle(() => reject(failed(event.data.error)));
      else if (event.type === 'cancelled') settle(() => reject(cancelled(event.data.error)));
    });
    const onAbort = () => {
      void jobs.cancel(id, 'the client closed the request').catch(() => undefined);
      settle(() => reject(signal.reason));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    // The job may have ended before we listened: its stored state says so.
    jobs.job(id).then(
      async (job) => {
        if (!job || settled) return;
        if (job.status === 'done') {
          const data = await resultOf(job);
          settle(() => resolve(data));
        } else if (job.status === 'failed') settle(() => reject(failed(job.error ?? 'unknown error')));
        else if (job.status === 'cancelled') settle(() => reject(cancelled(job.error ?? 'cancelled')));
      },
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
