/**
 * `npm run bench:scale`: jobs across processes on one PostgreSQL database (issue 15). Throughput of
 * fits per minute with 1, 2 and 4 worker processes (one job at a time each) behind one API
 * instance, and the queue's overhead per job: a fit's time from submission to its `done` event
 * through the queue (API -> PostgreSQL/pg-boss -> worker -> NOTIFY -> API), minus the same fit
 * answered synchronously by one process. Writes bench/results/scale.md.
 *
 * Needs a PostgreSQL server: LRCAST_TEST_DATABASE_URL or LRCAST_DATABASE_URL (scripts/pg-local.sh
 * start DIR prints one); each configuration runs in a fresh schema, dropped after.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { openStore } from '../src/store/index.js';
import { seedFixtures } from '../src/fixtures/seed.js';
import { projectPath } from '../src/paths.js';
import { freshDatabase } from '../test/helpers.js';
import { call, startApi, startWorker, type Proc } from '../test/multiprocess-helpers.js';

const serverUrl = process.env.LRCAST_TEST_DATABASE_URL || process.env.LRCAST_DATABASE_URL;
if (!serverUrl) {
  console.error('bench:scale needs a PostgreSQL server: LRCAST_TEST_DATABASE_URL=postgres://... (scripts/pg-local.sh start /tmp/lrcast-pg prints one)');
  process.exit(1);
}

const WORKER_COUNTS = [1, 2, 4];
const FITS = Number(process.env.SCALE_FITS ?? 24);
const OVERHEAD_RUNS = 10;
/** The fit of every job: lra on two 25M curves, no leave-one-out (about a second of one core). */
const fitBody = (i: number) => ({ curveIds: [1 + (i % 9), 10 + (i % 9)], law: 'lra', options: { leaveOneOut: false } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A fresh schema with the fixture curves. */
async function seededDatabase() {
  const database = freshDatabase(serverUrl);
  const store = await openStore(database.url);
  await seedFixtures(store);
  await store.close();
  return database;
}

/** Submit a fit job and wait for its `done` event on the API's stream; ms from the submission. */
async function fitThroughQueue(base: string, body: unknown): Promise<number> {
  const t0 = performance.now();
  const { status, json } = await call(base, 'POST', '/fit?async=1', body);
  if (status !== 202) throw new Error(`POST /fit?async=1: ${status} ${JSON.stringify(json)}`);
  const res = await fetch(`${base}/jobs/${json.jobId}/events`);
  const text = await res.text();
  if (!/event: done/.test(text)) throw new Error(`job ${json.jobId} did not end done: ${text.slice(-300)}`);
  return performance.now() - t0;
}

async function throughput(workers: number): Promise<{ workers: number; seconds: number; fitsPerMinute: number; load: number }> {
  const database = await seededDatabase();
  const procs: Proc[] = [];
  try {
    const started = await Promise.all([startApi(database.url), ...Array.from({ length: workers }, () => startWorker(database.url, { LRCAST_WORKER_CONCURRENCY: '1' }))]);
    procs.push(...started);
    const api = started[0]!.base!;
    await fitThroughQueue(api, fitBody(0)); // warm: the workers' threads and the fit code loaded
    const t0 = performance.now();
    const ids: number[] = [];
    for (let i = 0; i < FITS; i++) ids.push((await call(api, 'POST', '/fit?async=1', fitBody(i))).json.jobId);
    for (const id of ids) {
      for (;;) {
        const { json } = await call(api, 'GET', `/jobs/${id}`);
        if (json.status === 'done') break;
        if (json.status !== 'queued' && json.status !== 'running') throw new Error(`job ${id}: ${json.status} ${json.error}`);
        await sleep(25);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    return { workers, seconds, fitsPerMinute: (FITS / seconds) * 60, load: loadavg()[0]! };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await database.drop();
  }
}

/**
 * The queue's own cost per job: a job whose work is next to nothing (a fit of a curve that does not
 * exist: the worker reads it, finds none, and the job fails) enqueued to an idle worker, timed from
 * the enqueue to its end event heard back (LISTEN) by the submitting process. That round trip is what
 * the queue adds to any job: the job row and pg-boss delivery (one transaction), the NOTIFY that wakes
 * the worker, pg-boss's fetch, the claim, the outcome write and the NOTIFY of the end.
 */
async function overhead(): Promise<{ medianMs: number; minMs: number; maxMs: number }> {
  const database = await seededDatabase();
  const store = await openStore(database.url);
  const queue = store.queue!;
  await queue.start();
  const worker = await startWorker(database.url, { LRCAST_WORKER_CONCURRENCY: '1' });
  const times: number[] = [];
  try {
    for (let i = 0; i < OVERHEAD_RUNS + 1; i++) {
      await sleep(300); // the worker idle, as a job arriving on a quiet queue finds it
      let id = -1;
      const ended = new Promise<void>((resolve) => {
        const stop = queue.listen((event) => {
          if (event.id === id && event.type !== 'progress') {
            stop();
            resolve();
          }
        });
      });
      const t0 = performance.now();
      id = (await queue.enqueue('fit', { curveIds: [999_999], law: 'lra' })).id;
      await ended;
      if (i > 0) times.push(performance.now() - t0); // the first one warms the worker's code path
    }
  } finally {
    await worker.stop();
    await store.close();
    await database.drop();
  }
  return { medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times) };
}

const loadBefore = loadavg()[0]!;
const rows: Awaited<ReturnType<typeof throughput>>[] = [];
for (const workers of WORKER_COUNTS) {
  const row = await throughput(workers);
  console.log(`${workers} worker(s): ${FITS} fits in ${row.seconds.toFixed(1)} s = ${row.fitsPerMinute.toFixed(1)} fits/min`);
  rows.push(row);
}
const cost = await overhead();
console.log(`queue overhead per job: median ${cost.medianMs.toFixed(1)} ms (min ${cost.minMs.toFixed(1)}, max ${cost.maxMs.toFixed(1)})`);

const cores = availableParallelism();
/** What the rows say about the curve, from the figures themselves. */
function flattening(): string {
  const at = (n: number) => rows.find((r) => r.workers === n)?.fitsPerMinute;
  const [two, four] = [at(2), at(4)];
  if (two === undefined || four === undefined) return '';
  if (four <= two * 1.15) return `Here the curve flattens at 2 workers (4 workers: ${(four / two).toFixed(2)}x of 2).`;
  return `Here 4 workers did ${(four / two).toFixed(2)}x of 2, more than ${cores} cores allow for the same load: the other work on the machine changed between the runs (see the load averages), so these rows are not comparable with each other; rerun on a quiet machine.`;
}
const md = `# Jobs across processes: throughput and queue overhead (bench/scale.ts)

Machine: ${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}), PostgreSQL on the same machine (scripts/pg-local.sh).
Load average (1 min) when the run started: ${loadBefore.toFixed(1)}, when it ended: ${loadavg()[0]!.toFixed(1)} (other work on
the machine competes for its cores: figures taken on a busy machine understate what the workers can do).
Each configuration: a fresh schema with the fixture curves, 1 API instance (LRCAST_ROLE=api) and N
workers (\`npm run worker\`, LRCAST_WORKER_CONCURRENCY=1), ${FITS} fit jobs (lra on two 25M curves, no
leave-one-out) submitted at once after one warm-up job; time from the first submission to the last job done.

| worker processes | seconds | fits per minute | vs 1 worker | load average after |
| --- | --- | --- | --- | --- |
${rows.map((r) => `| ${r.workers} | ${r.seconds.toFixed(1)} | ${r.fitsPerMinute.toFixed(1)} | ${(r.fitsPerMinute / rows[0]!.fitsPerMinute).toFixed(2)}x | ${r.load.toFixed(1)} |`).join('\n')}

Each fit keeps one core busy, so throughput can grow with workers only up to the cores there are
(${cores} here, shared with PostgreSQL and the API): at most about ${cores}x one worker's. ${flattening()}
More workers on more machines add their cores.

Queue overhead per job: **${cost.medianMs.toFixed(0)} ms** (median of ${OVERHEAD_RUNS}; min ${cost.minMs.toFixed(0)}, max ${cost.maxMs.toFixed(0)} ms):
a job whose work is next to nothing (a fit of a curve that does not exist: the worker reads it and
the job fails), enqueued to an idle worker, timed from the enqueue to its end event heard back by the
submitting process. It covers the job row and pg-boss delivery (one transaction), the NOTIFY that
wakes the worker (without it a worker polls every 0.5 s), pg-boss's fetch, the claim, the outcome
write and the NOTIFY of the end. Against a fit of about a second, it is a few per cent.
`;
writeFileSync(projectPath('bench', 'results', 'scale.md'), md);
console.log('wrote bench/results/scale.md');
