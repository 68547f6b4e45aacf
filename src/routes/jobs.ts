/**
 * Jobs (optimizations, and fits started with `POST /fit?async=1`): GET /jobs/:id (kind, status,
 * progress, best loss, result when done), GET /jobs/:id/events, a server-sent event stream:
 * `progress` events, then `done` (the result), `failed` ({error}) or `cancelled` ({error}: the
 * cancel's reason), and DELETE /jobs/:id, which cancels a job that has not ended (its status becomes
 * `cancelled`, its error "cancelled"). A stopping server ends the open event streams without an
 * event: their jobs stay queued and run again at its next start.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as contract from './contracts/jobs.js';
import type { Route } from './contracts/index.js';
import type { JobEvent } from '../jobs/runner.js';
import type { JobStatus, Store, StoredJob } from '../store/types.js';
import { expandSchedule } from '../schedule/expand.js';
import { found, HttpProblem } from '../errors.js';
import { fitView } from './fits.js';
import { lrsOmittedNote, MAX_RESULT_LRS } from './contracts/optimize.js';

/** A job in one of these has ended: it cannot be cancelled, its event stream ends at once. */
const ENDED: ReadonlySet<JobStatus> = new Set(['done', 'failed', 'cancelled']);

/**
 * The result of a finished job as the API shows it: for a fit, the stored fit (as `GET /fits/{id}`;
 * only `{fitId}` once that fit is deleted); for an optimization, the result with its per-step lrs
 * (stored results leave them out: they are the schedule's expansion).
 */
export async function fullResult(store: Store, job: StoredJob): Promise<Record<string, unknown> | undefined> {
  if (!job.result) return undefined;
  if (job.kind === 'fit') {
    const fitId = job.result.fitId as number;
    const fit = await store.fits.get(fitId);
    return fit ? fitView(fit) : { fitId };
  }
  const schedule = job.result.schedule as string;
  const totalSteps = Number((job.request as { totalSteps?: number } | null)?.totalSteps ?? 0);
  // Millions of lrs would be expanded and serialized on the event loop at every poll: long schedules are fetched apart.
  if (totalSteps > MAX_RESULT_LRS) {
    return { ...job.result, scheduleId: job.scheduleId, lrsOmitted: lrsOmittedNote(totalSteps, job.scheduleId) };
  }
  return { ...job.result, lrs: Array.from(expandSchedule(schedule)), scheduleId: job.scheduleId };
}

/** The data of a `progress` event for a job's stored state: `{progress}` for a fit, plus best loss and iteration for an optimization. */
function progressEvent(job: StoredJob, progress: number, iteration: number) {
  return job.kind === 'fit' ? { progress } : { progress, bestLoss: job.bestLoss, iteration };
}

export async function jobView(store: Store, job: StoredJob) {
  const result = await fullResult(store, job);
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    progress: job.progress,
    bestLoss: job.bestLoss,
    ...(result ? { result } : {}),
    error: job.error,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

/** The most job event streams open at once (each holds a socket and a subscription): 503 beyond. */
export const MAX_JOB_STREAMS = 256;

type Runner = FastifyInstance['jobs'];

/** DELETE /jobs/:id: cancel, then wait (at most 10 s) for the job to end so the answer shows it ended. */
async function cancelAndWait(runner: Runner, store: Store, job: StoredJob, reply: FastifyReply) {
  const jobOr404 = async (id: number) => found(await runner.job(id), 'job', id);
  if (ENDED.has(job.status)) throw new HttpProblem(409, `job ${job.id} has already ended (${job.status})`, 'id');
  // Listen before cancelling: a running optimization ends at its next iteration, a moment later.
  let unsubscribe = () => {};
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 10_000);
    unsubscribe = runner.subscribe(job.id, (event: JobEvent) => {
      if (event.type !== 'progress') resolve();
    });
  });
  try {
    if (!(await runner.cancel(job.id))) throw new HttpProblem(409, `job ${job.id} is not running in this server`, 'id');
    const now = (await jobOr404(job.id)).status;
    if (now === 'running' || now === 'queued') await ended;
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
  const after = await jobOr404(job.id);
  // Still stopping after the wait (a step the search does not interrupt): 202, it ends cancelled soon.
  if (after.status === 'running' || after.status === 'queued') reply.code(202);
  return jobView(store, after);
}

/** GET /jobs/:id/events: the job's events as server-sent events until it ends, the client leaves or the server closes. */
async function streamJobEvents(runner: Runner, store: Store, job: StoredJob, request: FastifyRequest, reply: FastifyReply, streams: Set<() => void>) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let finished = false;
  let unsubscribe = () => {};
  const finish = () => {
    if (finished) return;
    finished = true;
    streams.delete(finish);
    unsubscribe();
    clearInterval(keepAlive);
    res.end();
  };
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  streams.add(finish);
  request.raw.on('close', finish);
  // Subscribe first, then read the state, so nothing between the two is lost.
  unsubscribe = runner.subscribe(job.id, (event: JobEvent) => {
    if (finished) return;
    send(event.type, event.data);
    if (event.type !== 'progress') finish();
  });
  const now = found(await runner.job(job.id), 'job', job.id);
  if (finished) return; // ended (or the client left) while the state was read
  if (now.status === 'done') {
    const result = await fullResult(store, now);
    if (finished) return;
    send('progress', progressEvent(now, 1, (now.result?.iterations as number) ?? 0));
    send('done', result);
    finish();
  } else if (now.status === 'failed' || now.status === 'cancelled') {
    send(now.status, { error: now.error });
    finish();
  } else {
    send('progress', progressEvent(now, now.progress, 0));
  }
}

export default async function jobRoutes(app: FastifyInstance) {
  const { jobs: runner, store } = app;
  /**
   * The open event streams (their `finish`). A closing server ends them first: they would hold its
   * close open, and their jobs, unfinished, run again at the next start (a client reconnects then).
   */
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const finish of [...streams]) finish();
  });
  /** The stored job (404 naming `id` when there is none). */
  const jobOr404 = async (id: number) => found(await runner.job(id), 'job', id);

  app.get<Route<typeof contract.getJob>>('/jobs/:id', { schema: contract.getJob }, async (request) => jobView(store, await jobOr404(request.params.id)));

  app.delete<Route<typeof contract.cancelJob>>('/jobs/:id', { schema: contract.cancelJob }, async (request, reply) =>
    cancelAndWait(runner, store, await jobOr404(request.params.id), reply),
  );

  app.get<Route<typeof contract.jobEvents>>('/jobs/:id/events', { schema: contract.jobEvents }, async (request, reply) => {
    const job = await jobOr404(request.params.id); // 404 before the stream starts
    if (streams.size >= MAX_JOB_STREAMS) {
      reply.header('retry-after', '5');
      throw new HttpProblem(503, `${MAX_JOB_STREAMS} job event streams are open already: poll GET /jobs/${job.id} instead, or retry later`, 'id');
    }
    await streamJobEvents(runner, store, job, request, reply, streams);
  });
}
