/**
 * Jobs outlive the process (issue 12): jobs left queued run after a restart, a job interrupted
 * while running is retried once and then fails, a clean stop leaves its jobs queued; and SIGTERM on
 * the real server lets requests in flight finish, then exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { JobRunner } from '../src/jobs/runner.js';
import { openStore } from '../src/store/index.js';
import { projectPath } from '../src/paths.js';
import { parseEvents, tempDir, testApp } from './helpers.js';

const P25 = [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257];
/** A search request as a job stores it (law params resolved): quick. */
const QUICK_SEARCH = { params: P25, totalSteps: 300, peakLr: 1e-3, warmupSteps: 10, restarts: 2, budgetMs: 200 };
/** A search that runs for a minute unless stopped. */
const LONG_SEARCH = { law: 'mpl', params: P25, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160, restarts: 64, budgetMs: 60_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll GET /jobs/{id} until `done(job)`, at most `ms`; the last state read. */
async function waitForJob(app: FastifyInstance, id: number, done: (job: any) => boolean, ms = 60_000) {
  const t0 = Date.now();
  for (;;) {
    const job = (await app.inject({ url: `/jobs/${id}` })).json();
    if (done(job) || Date.now() - t0 > ms) return job;
    await sleep(50);
  }
}
const ended = (job: { status: string }) => !['queued', 'running'].includes(job.status);

test('on start: queued jobs run, a job interrupted once is retried, twice fails; unknown kinds and missing curves fail with the reason', async () => {
  const seeded = await testApp({ seed: true });
  const curves = (await seeded.app.inject({ url: '/curves?limit=100' })).json().items as { id: number; name: string }[];
  const curveIds = curves.filter((c) => c.name.startsWith('25M/')).slice(0, 3).map((c) => c.id);
  await seeded.app.close();

  // What a process that crashed leaves behind.
  const store = await openStore(seeded.dbPath);
  const retried = await store.jobs.insert('optimize', QUICK_SEARCH);
  await store.jobs.markRunning(retried.id);
  const twice = await store.jobs.insert('optimize', QUICK_SEARCH);
  await store.jobs.markRunning(twice.id);
  await store.jobs.markRunning(twice.id);
  const queuedSearch = await store.jobs.insert('optimize', { ...QUICK_SEARCH, space: 'wsd' });
  const queuedFit = await store.jobs.insert('fit', { curveIds, law: 'lra', options: { leaveOneOut: false } });
  const missingCurve = await store.jobs.insert('fit', { curveIds: [curveIds[0], 9999], law: 'lra' });
  const unknown = await store.jobs.insert('translate', {});
  await store.close();

  const app = await buildApp({ dbPath: seeded.dbPath });
  try {
    // Decided at start: nothing to wait for.
    const failedTwice = (await app.inject({ url: `/jobs/${twice.id}` })).json();
    assert.deepEqual([failedTwice.status, failedTwice.error], ['failed', 'interrupted twice by a restart']);
    assert.deepEqual(parseEvents((await app.inject({ url: `/jobs/${twice.id}/events` })).body), [{ event: 'failed', data: { error: 'interrupted twice by a restart' } }]);
    const unknownJob = (await app.inject({ url: `/jobs/${unknown.id}` })).json();
    assert.equal(unknownJob.status, 'failed');
    assert.match(unknownJob.error, /server restarted: jobs of kind translate cannot run here/);

    for (const id of [retried.id, queuedSearch.id, queuedFit.id]) {
      const job = await waitForJob(app, id, ended);
      assert.equal(job.status, 'done', `job ${id}: ${job.error}`);
    }
    const fit = (await app.inject({ url: `/jobs/${queuedFit.id}` })).json().result;
    assert.deepEqual([fit.law, fit.curveIds], ['lra', curveIds]);
    const wsd = (await app.inject({ url: `/jobs/${queuedSearch.id}` })).json().result;
    assert.equal(wsd.space, 'wsd');
    assert.ok(wsd.scheduleId > 0);

    const missing = await waitForJob(app, missingCurve.id, ended);
    assert.equal(missing.status, 'failed');
    assert.match(missing.error, /9999/);
  } finally {
    await app.close();
  }
  const after = await openStore(seeded.dbPath);
  try {
    assert.equal((await after.jobs.get(retried.id))!.attempts, 2, 'the retry is its second attempt');
    assert.equal((await after.jobs.get(queuedSearch.id))!.attempts, 1);
    assert.deepEqual(await after.jobs.unfinished(), []);
  } finally {
    await after.close();
    seeded.close().catch(() => {});
  }
});

test('a clean stop stops the running search and leaves it and the queued one queued, its start given back; the next start runs them again', async () => {
  const ctx = await testApp();
  const post = (payload: object) => ctx.app.inject({ method: 'POST', url: '/optimize-schedule?async=1', payload });
  const first = (await post(LONG_SEARCH)).json().jobId as number;
  const second = (await post({ ...LONG_SEARCH, space: 'wsd' })).json().jobId as number;
  const running = await waitForJob(ctx.app, first, (job) => job.status === 'running' && job.progress > 0, 30_000);
  assert.equal(running.status, 'running');
  const t0 = Date.now();
  await ctx.app.close();
  assert.ok(Date.now() - t0 < 5000, `closing took ${Date.now() - t0} ms`);

  const store = await openStore(ctx.dbPath);
  const stopped = await store.jobs.unfinished();
  await store.close();
  assert.deepEqual(
    stopped.map((j) => [j.id, j.status, j.attempts, j.progress, j.bestLoss, j.error]),
    [
      [first, 'queued', 0, 0, null, null],
      [second, 'queued', 0, 0, null, null],
    ],
  );

  const app = await buildApp({ dbPath: ctx.dbPath });
  try {
    const again = await waitForJob(app, first, (job) => job.status === 'running', 30_000);
    assert.equal(again.status, 'running');
    assert.equal((await app.inject({ url: `/jobs/${second}` })).json().status, 'queued', 'still in arrival order');
    for (const id of [second, first]) assert.equal((await app.inject({ method: 'DELETE', url: `/jobs/${id}` })).statusCode, 200);
  } finally {
    await app.close();
    ctx.close().catch(() => {});
  }
});

test('a job started while the runner stops (a request already in flight) is stored queued for the next start', async () => {
  const { dir, cleanup } = tempDir();
  const store = await openStore(join(dir, 'jobs.sqlite'));
  try {
    const runner = new JobRunner(store.jobs);
    let ran = 0;
    runner.define('probe', { resume: () => async () => ((ran += 1), { stored: {}, event: {} }) });
    await runner.close();
    const id = await runner.start('probe', { x: 1 });
    await sleep(50);
    const job = (await store.jobs.get(id))!;
    assert.deepEqual([job.status, job.attempts, job.request, ran], ['queued', 0, { x: 1 }, 0]);
  } finally {
    await store.close();
    cleanup();
  }
});

/** The real server on `dbPath`, its log collected; resolves once it listens. */
async function startServer(dbPath: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('src', 'server.ts')], {
    cwd: projectPath(),
    env: { ...process.env, PORT: '0', LRCAST_DB: dbPath, LRCAST_SEED: '0', LOG_LEVEL: 'info', LRCAST_RATE_LIMIT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(({ code }) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return { child, base, exited, log: () => log };
}

test('SIGTERM: the request in flight completes (200), the event stream ends, the running job stays queued, exit 0 within seconds', async () => {
  const { dir, cleanup } = tempDir();
  const dbPath = join(dir, 'lrcast.sqlite');
  const server = await startServer(dbPath);
  try {
    const json = { 'content-type': 'application/json' };
    const started = await fetch(`${server.base}/optimize-schedule?async=1`, { method: 'POST', headers: json, body: JSON.stringify(LONG_SEARCH) });
    const { jobId } = await started.json();
    for (let i = 0; i < 300; i++) {
      if ((await (await fetch(`${server.base}/jobs/${jobId}`)).json()).status === 'running') break;
      await sleep(100);
    }
    const stream = fetch(`${server.base}/jobs/${jobId}/events`).then((res) => res.text());
    // A synchronous search of about 1.5 s (plus a worker's start) is in flight when the signal comes.
    const slow = fetch(`${server.base}/optimize-schedule`, { method: 'POST', headers: json, body: JSON.stringify({ ...LONG_SEARCH, budgetMs: 1500 }) });
    await sleep(300);
    server.child.kill('SIGTERM');
    const answer = await slow;
    const answeredAt = Date.now();
    assert.equal(answer.status, 200);
    const result = await answer.json();
    assert.ok(result.scheduleId > 0);
    assert.equal(result.lrs.length, LONG_SEARCH.totalSteps);
    assert.deepEqual(parseEvents(await stream).map((e) => e.event), ['progress'], 'the stream ends without a final event');

    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<{ code: null; at: number }>((resolve) => (timer = setTimeout(() => resolve({ code: null, at: Date.now() }), 10_000)));
    const { code, at } = await Promise.race([server.exited, hung]);
    clearTimeout(timer);
    assert.equal(code, 0, server.log());
    assert.ok(at - answeredAt < 5000, `exited ${at - answeredAt} ms after answering`);
    assert.match(server.log(), /SIGTERM: stopping/);

    const store = await openStore(dbPath);
    try {
      const job = (await store.jobs.get(jobId))!;
      assert.deepEqual([job.status, job.attempts, job.error], ['queued', 0, null]);
      assert.ok(await store.schedules.get(result.scheduleId), 'the answered search was stored');
    } finally {
      await store.close();
    }
  } finally {
    server.child.kill('SIGKILL');
    cleanup();
  }
});
