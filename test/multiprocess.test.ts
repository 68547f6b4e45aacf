/**
 * Several machines on one PostgreSQL database (issue 15), as real processes: 2 API instances
 * (LRCAST_ROLE=api) and 2 workers (`npm run worker`). 20 fits and 10 schedule searches go round-robin
 * to both APIs; every job completes with the result a single process (SQLite) gives; one worker is
 * killed with SIGKILL in the middle of a job, which another worker then runs (no job stuck, none
 * with two results); a cancel sent to one API stops the search running on a worker within 2 s.
 * Skipped, saying so, without a PostgreSQL server (LRCAST_TEST_DATABASE_URL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';
import { seedFixtures } from '../src/fixtures/seed.js';
import { freshDatabase, tempDir, testDatabaseUrl } from './helpers.js';
import { call, startApi, startSingle, startWorker, type Proc } from './multiprocess-helpers.js';

const skip = testDatabaseUrl ? false : 'no PostgreSQL server: set LRCAST_TEST_DATABASE_URL (scripts/pg-local.sh start DIR prints one)';

const P25 = [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257];
/** Small fits (lra, one or two curves, no leave-one-out) and searches (short runs, few restarts): the test is about the machinery. */
const FITS = Array.from({ length: 20 }, (_, i) => ({ curveIds: i % 3 === 0 ? [1 + (i % 18), 1 + ((i + 5) % 18)] : [1 + (i % 18)], law: 'lra', options: { leaveOneOut: false } }));
const SEARCHES = Array.from({ length: 10 }, (_, i) => ({
  law: 'mpl',
  params: P25,
  totalSteps: 300 + 50 * i,
  peakLr: 3e-4,
  warmupSteps: 30,
  space: i % 2 ? 'wsd' : 'piecewise',
  restarts: 2,
  // Far beyond what these need: each stops when it converges, never at a wall-clock budget, so the
  // result does not depend on how busy the machine is.
  budgetMs: 300_000,
}));
/** What must be identical between the runs: a fit's parameters and metrics; a search's schedule and predicted loss. */
const fitKey = (fit: any) => JSON.stringify([fit.law, fit.curveIds, fit.params, fit.metrics]);
const searchKey = (r: any) => JSON.stringify([r.schedule, r.predictedFinalLoss, r.space]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The reference: the same requests answered by one process alone on SQLite (`npm start` as it ships: its optimizer backend too). */
async function singleProcessResults(single: Proc): Promise<{ fits: string[]; searches: string[] }> {
  const fits: string[] = [];
  for (const body of FITS) {
    const res = await call(single.base!, 'POST', '/fit', body);
    assert.equal(res.status, 201, JSON.stringify(res.json));
    fits.push(fitKey(res.json));
  }
  const searches: string[] = [];
  for (const body of SEARCHES) {
    const res = await call(single.base!, 'POST', '/optimize-schedule', body);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    searches.push(searchKey(res.json));
  }
  return { fits, searches };
}

test('2 APIs + 2 workers on one database: 20 fits and 10 searches complete as in one process; a worker killed mid-job loses nothing and stores nothing twice; a cancel crosses processes', { skip, timeout: 600_000 }, async () => {
  const database = freshDatabase();
  const { dir, cleanup } = tempDir();
  const schema = new URL(database.url).searchParams.get('schema')!;
  const store = await openStore(database.url);
  await seedFixtures(store); // the same curves, with the same ids, as the reference's seeded SQLite
  await store.close();
  const db = new pg.Client({ connectionString: testDatabaseUrl });
  await db.connect();
  const procs: Proc[] = [];
  try {
    // Workers count as dead after 3 s without a heartbeat (10 s by default): the test waits less.
    const workerEnv = { LRCAST_WORKER_CONCURRENCY: '2', LRCAST_JOB_STALE_SECONDS: '3' };
    const [single, ...started] = await Promise.all([
      startSingle(join(dir, 'single.sqlite'), { LRCAST_SEED: '1' }),
      startApi(database.url),
      startApi(database.url),
      startWorker(database.url, workerEnv),
      startWorker(database.url, workerEnv),
    ]);
    procs.push(single!, ...started);
    const reference = await singleProcessResults(single!);
    await single!.stop();
    const apis = [started[0]!, started[1]!];
    const workers = [started[2]!, started[3]!];

    const submitted: { jobId: number; kind: 'fit' | 'optimize'; index: number }[] = [];
    for (let i = 0; i < FITS.length + SEARCHES.length; i++) {
      const api = apis[i % 2]!;
      const isFit = i < FITS.length;
      const res = isFit ? await call(api.base!, 'POST', '/fit?async=1', FITS[i]) : await call(api.base!, 'POST', '/optimize-schedule?async=1', SEARCHES[i - FITS.length]);
      assert.equal(res.status, 202, JSON.stringify(res.json));
      submitted.push({ jobId: res.json.jobId, kind: isFit ? 'fit' : 'optimize', index: isFit ? i : i - FITS.length });
    }

    // Kill the worker running a job (its owner names its pid), as soon as one runs a search (the longer jobs).
    let killed: { pid: number; jobId: number } | undefined;
    for (const t0 = Date.now(); !killed && Date.now() - t0 < 60_000; await sleep(20)) {
      const { rows } = await db.query(`SELECT id, owner FROM ${schema}.jobs WHERE status = 'running' AND kind = 'optimize' AND owner IS NOT NULL ORDER BY id LIMIT 1`);
      if (!rows[0]) continue;
      const pid = Number(/:(\d+):/.exec(rows[0].owner)![1]);
      const victim = workers.find((w) => w.child.pid === pid);
      assert.ok(victim, `job ${rows[0].id} runs on pid ${pid}, one of the workers`);
      victim.child.kill('SIGKILL');
      killed = { pid, jobId: rows[0].id };
    }
    assert.ok(killed, 'a worker was killed in the middle of a search');

    // Every job ends (none stuck), done, through either API.
    const ended = new Map<number, any>();
    for (const t0 = Date.now(); ended.size < submitted.length && Date.now() - t0 < 240_000; await sleep(250)) {
      for (const [k, job] of submitted.entries()) {
        if (ended.has(job.jobId)) continue;
        const res = await call(apis[k % 2]!.base!, 'GET', `/jobs/${job.jobId}`);
        if (['done', 'failed', 'cancelled'].includes(res.json.status)) ended.set(job.jobId, res.json);
      }
    }
    if (ended.size < submitted.length) {
      const { rows } = await db.query(`SELECT id, kind, status, attempts, owner, heartbeat_at, progress FROM ${schema}.jobs WHERE status IN ('queued', 'running')`);
      assert.fail(`jobs left unfinished: ${JSON.stringify(rows)}\nworkers:\n${workers.map((w) => w.output().slice(-2000)).join('\n---\n')}`);
    }
    for (const job of submitted) {
      const view = ended.get(job.jobId);
      assert.equal(view.status, 'done', `job ${job.jobId}: ${view.status} ${view.error}`);
      if (job.kind === 'fit') assert.equal(fitKey(view.result), reference.fits[job.index], `fit job ${job.jobId} matches the single-process fit`);
      else assert.equal(searchKey(view.result), reference.searches[job.index], `search job ${job.jobId} matches the single-process search`);
    }
    // The killed job was started twice (the second time elsewhere) and stored one result; nothing was stored twice.
    const { rows: killedRow } = await db.query(`SELECT attempts, status FROM ${schema}.jobs WHERE id = $1`, [killed.jobId]);
    assert.deepEqual(killedRow[0], { attempts: 2, status: 'done' });
    const counts = await db.query(`SELECT (SELECT COUNT(*)::int FROM ${schema}.fits) AS fits, (SELECT COUNT(*)::int FROM ${schema}.schedules) AS schedules`);
    assert.deepEqual(counts.rows[0], { fits: FITS.length, schedules: SEARCHES.length }, 'one stored fit per fit job and one schedule per search job');

    // Synchronous requests to an API instance (LRCAST_ROLE=api) run on a worker too, and answer as one process does.
    const syncFit = await call(apis[0]!.base!, 'POST', '/fit', FITS[0]);
    assert.equal(syncFit.status, 201, JSON.stringify(syncFit.json));
    assert.equal(fitKey(syncFit.json), reference.fits[0], 'a synchronous fit through the queue matches the single-process fit');
    const syncSearch = await call(apis[1]!.base!, 'POST', '/optimize-schedule', SEARCHES[0]);
    assert.equal(syncSearch.status, 200, JSON.stringify(syncSearch.json));
    assert.equal(searchKey(syncSearch.json), reference.searches[0], 'a synchronous search through the queue matches the single-process search');
    assert.equal(syncSearch.json.lrs.length, SEARCHES[0]!.totalSteps, 'with its per-step lrs');
    // A synchronous request answered in the API process makes no job; through the queue it is a job, run by a worker
    // (API instances take no deliveries).
    const { rows: syncJobs } = await db.query(`SELECT kind, status, attempts FROM ${schema}.jobs ORDER BY id DESC LIMIT 2`);
    for (const job of syncJobs) assert.deepEqual({ status: job.status, attempts: job.attempts }, { status: 'done', attempts: 1 }, JSON.stringify(job));
    assert.deepEqual(syncJobs.map((j: { kind: string }) => j.kind).sort(), ['fit', 'optimize']);

    // A cancel sent to API B stops the search a worker runs for API A's request within 2 s.
    const long = { law: 'mpl', params: P25, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160, space: 'free', restarts: 256, budgetMs: 120_000 };
    const { json } = await call(apis[0]!.base!, 'POST', '/optimize-schedule?async=1', long);
    for (const t0 = Date.now(); Date.now() - t0 < 30_000; await sleep(50)) {
      if ((await call(apis[1]!.base!, 'GET', `/jobs/${json.jobId}`)).json.progress > 0) break;
    }
    const t0 = performance.now();
    const cancelled = await call(apis[1]!.base!, 'DELETE', `/jobs/${json.jobId}`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.json));
    assert.equal(cancelled.json.status, 'cancelled');
    // The worker's delivery completes when its work has stopped.
    let stoppedMs: number | undefined;
    for (; performance.now() - t0 < 10_000; await sleep(50)) {
      const { rows } = await db.query(`SELECT state FROM ${schema}_pgboss.job WHERE data->>'jobId' = $1 ORDER BY created_on DESC LIMIT 1`, [String(json.jobId)]);
      if (rows[0]?.state === 'completed') {
        stoppedMs = performance.now() - t0;
        break;
      }
    }
    assert.ok(stoppedMs !== undefined && stoppedMs < 2000, `the worker stopped the cancelled search after ${stoppedMs} ms`);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await db.end();
    await database.drop();
    cleanup();
  }
});
