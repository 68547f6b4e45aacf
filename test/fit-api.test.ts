/** POST /fit, /fits and GET /predict against the seeded demo curves on a real SQLite file. */
import { test, before, after } from 'node:test';
import { rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { parseEvents, testApp } from './helpers.js';
import { fitLaw } from '../src/fit/index.js';
import { loadFixtureCurves } from '../src/fixtures/luo2025.js';
import { FitPool, type LeaveOneOutRun } from '../src/workers/fit-pool.js';
import { openStore } from '../src/store/index.js';
import { buildApp } from '../src/app.js';

const PUBLISHED_100M = '2.6514477,0.60115152,0.45295811,437.9464276,2.13245612,0.59785199,0.65523644';
const COSINE_24K = 'cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5';

let ctx: Awaited<ReturnType<typeof testApp>>;
let ids: Record<string, number>;
before(async () => {
  ctx = await testApp({ seed: true });
  const list = (await ctx.app.inject({ url: '/curves?limit=100' })).json();
  ids = Object.fromEntries(list.items.map((c: { name: string; id: number }) => [c.name, c.id]));
});
after(async () => ctx.close());

const get = (url: string) => ctx.app.inject({ method: 'GET', url });
const q = encodeURIComponent;

/** Poll GET /fits/{id} until its leave-one-out is no longer pending; the fit then. */
async function leaveOneOutSettled(id: number, app = ctx.app, timeoutMs = 5 * 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const fit = (await app.inject({ url: `/fits/${id}` })).json();
    if (fit.leaveOneOut?.status !== 'pending') return fit;
    assert.ok(Date.now() < until, `fit ${id}: leave-one-out still pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Record the leave-one-out runs the routes start (FitPool.leaveOneOut), while `body` runs. */
async function watchingLeaveOneOut<T>(body: (runs: LeaveOneOutRun[]) => Promise<T>): Promise<T> {
  const original = FitPool.prototype.leaveOneOut;
  const runs: LeaveOneOutRun[] = [];
  FitPool.prototype.leaveOneOut = function (this: FitPool, request) {
    const run = original.call(this, request);
    runs.push(run);
    return run;
  };
  try {
    return await body(runs);
  } finally {
    FitPool.prototype.leaveOneOut = original;
  }
}

test('POST /fit fits mpl on the 25M training curves and stores the report', async () => {
  const curveIds = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'].map((n) => ids[n]!);
  const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'mpl' } });
  assert.equal(res.statusCode, 201, res.body);
  const fit = res.json();
  assert.equal(fit.law, 'mpl');
  assert.deepEqual(fit.curveIds, curveIds);
  assert.deepEqual(fit.params.map((p: { name: string }) => p.name), ['L0', 'A', 'alpha', 'B', 'C', 'beta', 'gamma']);
  for (const p of fit.params) {
    assert.ok(Number.isFinite(p.value));
    assert.ok(p.value >= p.min && p.value <= p.max, `${p.name} within bounds`);
  }
  assert.equal(fit.metrics.perCurve.length, 3);
  assert.ok(fit.metrics.mean.r2 > 0.99, `train R2 ${fit.metrics.mean.r2}`);
  // The answer comes with the main fit: leave-one-out is computed in the background.
  assert.deepEqual(fit.leaveOneOut, { status: 'pending' });
  assert.equal(typeof fit.text, 'string');
  assert.equal(typeof fit.converged, 'boolean');

  const back = await leaveOneOutSettled(fit.id);
  assert.deepEqual(back.params, fit.params);
  assert.equal(back.leaveOneOut.status, 'done');
  assert.equal(back.leaveOneOut.perCurve.length, 3);
  const list = (await get('/fits')).json();
  assert.ok(list.items.some((f: { id: number }) => f.id === fit.id));

  // Predicting a held-out curve from the stored fit: metrics against its points.
  const held = (await get(`/predict?fit=${fit.id}&curve=${ids['25M/wsd_20000_24000']}`)).json();
  assert.equal(held.steps.length, held.observed.steps.length);
  assert.ok(held.metrics.predE < 0.005, `held-out PredE ${held.metrics.predE}`);
  assert.deepEqual(held.warnings, []);

  // Extrapolation warnings.
  const hot = (await get(`/predict?fit=${fit.id}&schedule=${q('cosine:peak=1e-3,warmup=2160,total=24000')}`)).json();
  assert.equal(hot.warnings.length, 1);
  assert.match(hot.warnings[0], /peak lr/);
  const long = (await get(`/predict?fit=${fit.id}&schedule=${q('constant:peak=3e-4,warmup=2160,total=100000')}`)).json();
  assert.match(long.warnings.join(' '), /4x/);

  assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/fits/${fit.id}` })).statusCode, 204);
  assert.equal((await get(`/fits/${fit.id}`)).statusCode, 404);
});

test('POST /fit fits lra too', async () => {
  const curveIds = ['100M/cosine_24000', '100M/constant_24000'].map((n) => ids[n]!);
  const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'lra', options: { leaveOneOut: false } } });
  assert.equal(res.statusCode, 201, res.body);
  const fit = res.json();
  assert.deepEqual(fit.params.map((p: { name: string }) => p.name), ['L0', 'A', 'alpha', 'C']);
  assert.ok(fit.metrics.mean.r2 > 0.98);
  const pred = (await get(`/predict?fit=${fit.id}&schedule=${q(COSINE_24K)}`)).json();
  assert.equal(pred.final.step, 23999);
});

test('POST /fit answers with the main fit; the leave-one-out folds complete it in the background, with the same results as fitLaw in turn', async () => {
  const names = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'];
  const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds: names.map((n) => ids[n]!), law: 'lra' } });
  assert.equal(res.statusCode, 201, res.body);
  const answered = res.json();
  // The answer does not wait for the folds: the fit is stored with leave-one-out pending, and says so.
  assert.deepEqual(answered.leaveOneOut, { status: 'pending' });
  assert.match(answered.text, /\[\[Leave-one-curve-out\]\] pending/);
  assert.ok(!answered.notes.some((n: string) => n.startsWith('leave-one-curve-out')));
  const fit = await leaveOneOutSettled(answered.id);
  assert.equal(fit.leaveOneOut.status, 'done', JSON.stringify(fit.leaveOneOut));
  assert.deepEqual(fit.params, answered.params);
  assert.equal(fit.wallMs, answered.wallMs, 'the wall time is the main fit\'s');
  assert.deepEqual((await get('/fits?limit=100')).json().items.find((f: { id: number }) => f.id === fit.id), fit);
  const fixtures = loadFixtureCurves('25M');
  const library = fitLaw({ law: 'lra', curves: names.map((n) => fixtures.find((c) => c.name === n)!) });
  assert.deepEqual(fit.params.map((p: { value: number }) => p.value), library.params.map((p) => p.value));
  assert.deepEqual(
    fit.leaveOneOut.perCurve.map((c: { name: string; predE: number; r2: number }) => [c.name, c.predE, c.r2]),
    library.leaveOneOut!.curves.map((c) => [c.name, c.metrics.predE, c.metrics.r2]),
  );
  assert.equal(fit.leaveOneOut.mean.predE, library.leaveOneOut!.mean.predE);
  assert.deepEqual(fit.leaveOneOut.perCurve.map((c: { curveId: number }) => c.curveId), answered.curveIds);
  assert.ok(fit.notes.some((n: string) => n.startsWith('leave-one-curve-out')));
  assert.match(fit.text, /\[\[Leave-one-curve-out\]\] \(each curve/);
  assert.doesNotMatch(fit.text, /pending/);
});

test('POST /fit?async=1 answers 202 with a job: progress events, then done with the stored fit', async () => {
  const curveIds = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'].map((n) => ids[n]!);
  const payload = { curveIds, law: 'mpl', options: { leaveOneOut: false, method: 'adam', adamIterations: 300 } };
  const res = await ctx.app.inject({ method: 'POST', url: '/fit?async=1', payload });
  assert.equal(res.statusCode, 202, res.body);
  const { jobId } = res.json();
  assert.equal(res.headers.location, `/jobs/${jobId}`);

  const events = parseEvents((await get(`/jobs/${jobId}/events`)).body);
  const last = events[events.length - 1]!;
  assert.equal(last.event, 'done', JSON.stringify(last));
  const progress = events.slice(0, -1).map((e) => e.data.progress as number);
  assert.ok(progress.some((p) => p > 0 && p < 1), `intermediate progress: ${progress.join(', ')}`);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]!, 'progress never goes back');
  const fit = last.data;
  assert.deepEqual(fit.curveIds, curveIds);
  assert.equal(fit.iterations, 300);

  const job = (await get(`/jobs/${jobId}`)).json();
  assert.equal(job.kind, 'fit');
  assert.equal(job.status, 'done');
  assert.equal(job.progress, 1);
  assert.equal(job.result.id, fit.id);
  assert.deepEqual((await get(`/fits/${fit.id}`)).json().params, fit.params);
  // The same request answered synchronously gives the same fit.
  const sync = (await ctx.app.inject({ method: 'POST', url: '/fit', payload })).json();
  assert.deepEqual(sync.params, fit.params);

  // Bad ids are still checked before any job starts; a fit that fails in the worker fails its job.
  const missing = await ctx.app.inject({ method: 'POST', url: '/fit?async=1', payload: { curveIds: [999999], law: 'mpl' } });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().field, 'curveIds[0]');
  const doomed = await ctx.app.inject({ method: 'POST', url: '/fit?async=1', payload: { curveIds, law: 'mpl', options: { fromStep: 10_000_000 } } });
  assert.equal(doomed.statusCode, 202);
  const failed = parseEvents((await get(`/jobs/${doomed.json().jobId}/events`)).body).at(-1)!;
  assert.equal(failed.event, 'failed');
  assert.match(failed.data.error, /no points at or after fromStep/);
  assert.equal((await get(`/jobs/${doomed.json().jobId}`)).json().status, 'failed');
});

test('an async fit with leave-one-out: done with the main fit, leave-one-out later on the fit; the stream of a finished job and its result after the fit is deleted', async () => {
  const curveIds = ['100M/cosine_24000', '100M/constant_24000', '100M/wsdcon_9'].map((n) => ids[n]!);
  const res = await ctx.app.inject({ method: 'POST', url: '/fit?async=1', payload: { curveIds, law: 'lra' } });
  assert.equal(res.statusCode, 202, res.body);
  const { jobId } = res.json();
  const live = parseEvents((await get(`/jobs/${jobId}/events`)).body);
  const done = live.at(-1)!;
  assert.equal(done.event, 'done');
  assert.deepEqual(done.data.leaveOneOut, { status: 'pending' });
  const completed = await leaveOneOutSettled(done.data.id);
  assert.equal(completed.leaveOneOut.status, 'done');
  assert.equal(completed.leaveOneOut.perCurve.length, 3);
  // The job's result is the fit as it is now.
  assert.deepEqual((await get(`/jobs/${jobId}`)).json().result, completed);
  const progress = live.slice(0, -1).map((e) => e.data.progress as number);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]!, `progress never goes back: ${progress.join(', ')}`);
  assert.ok(progress.every((p) => p >= 0 && p <= 1));

  // Opened after the end: one progress event at 1, then done with the fit as stored now.
  const replay = parseEvents((await get(`/jobs/${jobId}/events`)).body);
  assert.deepEqual(replay.map((e) => e.event), ['progress', 'done']);
  assert.deepEqual(replay[0]!.data, { progress: 1 });
  assert.deepEqual(replay[1]!.data, completed);
  const { leaveOneOut: _pending, text: _text, notes: _notes, ...main } = done.data;
  const { leaveOneOut: _done, text: _text2, notes: _notes2, ...same } = completed;
  assert.deepEqual(same, main, 'leave-one-out changes nothing but itself, the notes and the text');

  // Once the fit is deleted the job still answers, with the fit's id.
  assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/fits/${done.data.id}` })).statusCode, 204);
  assert.deepEqual((await get(`/jobs/${jobId}`)).json().result, { fitId: done.data.id });
});

test('DELETE /jobs/{id} cancels a running fit: its tasks stop, nothing is stored, the next fit is not held up', async () => {
  const curveIds = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'].map((n) => ids[n]!);
  const before = (await get('/fits')).json().total;
  const res = await ctx.app.inject({ method: 'POST', url: '/fit?async=1', payload: { curveIds, law: 'mpl', options: { method: 'adam', adamIterations: 100000 } } });
  const { jobId } = res.json();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cancelled = await ctx.app.inject({ method: 'DELETE', url: `/jobs/${jobId}` });
  assert.equal(cancelled.statusCode, 200, cancelled.body);
  assert.deepEqual([cancelled.json().status, cancelled.json().error], ['cancelled', 'cancelled']);
  const readBack = (await get(`/jobs/${jobId}`)).json();
  assert.deepEqual([readBack.status, readBack.error], ['cancelled', 'cancelled'], 'a cancelled fit job reads back cancelled');
  assert.deepEqual(parseEvents((await get(`/jobs/${jobId}/events`)).body), [{ event: 'cancelled', data: { error: 'cancelled' } }]);
  // Were its task still running, this fit would wait minutes for a worker (its folds never started).
  const next = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'lra', options: { leaveOneOut: false } } });
  assert.equal(next.statusCode, 201);
  assert.equal((await get('/fits')).json().total, before + 1);
  assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/jobs/${jobId}` })).statusCode, 409);
});

test('stopping the server stops a running async fit (nothing stored) and leaves it queued; the next start runs it', async () => {
  const own = await testApp({ seed: true });
  try {
    const list = (await own.app.inject({ url: '/curves?limit=100' })).json();
    const curveIds = list.items.filter((c: { name: string }) => c.name.startsWith('25M/')).slice(0, 3).map((c: { id: number }) => c.id);
    const res = await own.app.inject({ method: 'POST', url: '/fit?async=1', payload: { curveIds, law: 'mpl' } });
    assert.equal(res.statusCode, 202);
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await own.app.close();
  }
  const store = await openStore(own.dbPath);
  const stopped = (await store.jobs.get(1))!;
  assert.deepEqual([stopped.status, stopped.error, stopped.attempts], ['queued', null, 0], 'a clean stop gives the start back');
  assert.equal((await store.fits.list(10, 0)).total, 0);
  await store.close();
  const reopened = await testApp({ dbPath: own.dbPath });
  try {
    let job = (await reopened.app.inject({ url: '/jobs/1' })).json();
    for (const t0 = Date.now(); job.status !== 'done' && Date.now() - t0 < 60_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await reopened.app.inject({ url: '/jobs/1' })).json();
    }
    assert.equal(job.status, 'done', job.error);
    assert.equal((await reopened.app.inject({ url: '/fits' })).json().total, 1);
  } finally {
    await reopened.close();
    rmSync(own.dir, { recursive: true, force: true });
  }
});

test('deleting a fit while its leave-one-out runs stops the folds, and nothing is written for it', async () => {
  const curveIds = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'].map((n) => ids[n]!);
  const before = (await get('/fits')).json().total;
  await watchingLeaveOneOut(async (runs) => {
    const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'mpl' } });
    assert.equal(res.statusCode, 201, res.body);
    const fit = res.json();
    assert.deepEqual(fit.leaveOneOut, { status: 'pending' });
    assert.equal(runs.length, 1, 'the folds were started');
    assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/fits/${fit.id}` })).statusCode, 204);
    // The folds are stopped (not run to their end for nobody).
    await assert.rejects(runs[0]!.done, /the fit was deleted/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await get(`/fits/${fit.id}`)).statusCode, 404);
  });
  assert.equal((await get('/fits')).json().total, before);
  // A fit without leave-one-out starts no folds; one curve needs none either.
  await watchingLeaveOneOut(async (runs) => {
    const off = (await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'lra', options: { leaveOneOut: false } } })).json();
    const one = (await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds: curveIds.slice(0, 1), law: 'lra' } })).json();
    assert.deepEqual([off.leaveOneOut, one.leaveOneOut, runs.length], [null, null, 0]);
    assert.doesNotMatch(off.text + one.text, /Leave-one-curve-out/);
  });
});

test('stopping the server fails the leave-one-out still running (stored as failed), and a server starting fails any left pending', async () => {
  const own = await testApp({ seed: true });
  let fit: any;
  try {
    const list = (await own.app.inject({ url: '/curves?limit=100' })).json();
    const curveIds = list.items.filter((c: { name: string }) => c.name.startsWith('25M/')).slice(0, 3).map((c: { id: number }) => c.id);
    const res = await own.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'mpl' } });
    assert.equal(res.statusCode, 201, res.body);
    fit = res.json();
    assert.deepEqual(fit.leaveOneOut, { status: 'pending' });
  } finally {
    await own.app.close();
  }
  let reopened = await buildApp({ dbPath: own.dbPath });
  try {
    const stopped = (await reopened.inject({ url: `/fits/${fit.id}` })).json();
    assert.deepEqual(stopped.leaveOneOut, { status: 'failed', error: 'server stopped' });
    assert.match(stopped.text, /\[\[Leave-one-curve-out\]\] failed: server stopped/);
    assert.deepEqual(stopped.params, fit.params);
  } finally {
    await reopened.close();
  }
  // A process that ended without closing (a crash) leaves a fit pending: the next start fails it.
  const store = await openStore(own.dbPath);
  const { id: _id, law, curveIds, options, createdAt: _at, ...report } = fit;
  const crashed = await store.fits.insert({ law, curveIds, options, params: fit.params.map((p: { value: number }) => p.value), maxLr: 3e-4, maxSteps: 24000, report });
  await store.close();
  reopened = await buildApp({ dbPath: own.dbPath });
  try {
    const restarted = (await reopened.inject({ url: `/fits/${crashed.id}` })).json();
    assert.deepEqual(restarted.leaveOneOut, { status: 'failed', error: 'server restarted' });
    assert.match(restarted.text, /\[\[Leave-one-curve-out\]\] failed: server restarted/);
    assert.doesNotMatch(restarted.text, /pending/);
  } finally {
    await reopened.close();
    rmSync(own.dir, { recursive: true, force: true });
  }
});

test('a fit stored before leave-one-out ran in the background shows its metrics as done', async () => {
  const store = await openStore(ctx.dbPath);
  try {
    const metrics = { r2: 0.9, mae: 0.01, rmse: 0.02, predE: 0.003, worstE: 0.01, points: 10 };
    const loo = { perCurve: [{ curveId: 1, name: 'a', ...metrics }], mean: metrics };
    const old = await store.fits.insert({ law: 'lra', curveIds: [1, 2], options: {}, params: [3, 0.5, 0.5, 1], maxLr: 3e-4, maxSteps: 100, report: { leaveOneOut: loo, notes: [] } });
    assert.deepEqual((await get(`/fits/${old.id}`)).json().leaveOneOut, { status: 'done', ...loo });
    assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/fits/${old.id}` })).statusCode, 204);
  } finally {
    await store.close();
  }
});

test('GET /predict with published parameters: about 500 steps plus the last by default, or steps/every', async () => {
  const res = await get(`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q(COSINE_24K)}`);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.ok(body.steps.length >= 500 && body.steps.length <= 502);
  assert.equal(body.steps[body.steps.length - 1], 23999);
  assert.equal(body.final.step, 23999);
  // The law engine's published-parameter value at the last step (issue #4's acceptance table).
  assert.equal(body.final.loss.toFixed(6), '2.990025');

  const some = (await get(`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q(COSINE_24K)}&steps=100,12000`)).json();
  assert.deepEqual(some.steps, [100, 12000]);
  assert.equal(some.loss.length, 2);
  assert.equal(some.final.loss, body.final.loss);
  const every = (await get(`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q(COSINE_24K)}&every=10000`)).json();
  assert.deepEqual(every.steps, [10000, 20000, 23999]);

  // Step 0 of a warmup from 0 has no lr applied yet (S = 0): the laws predict an infinite loss there, so
  // the default grids leave it out; asked for explicitly, it is null with a warning.
  assert.ok(body.steps[0] > 0 && body.loss.every((v: unknown) => typeof v === 'number'), 'no null in the default grid');
  assert.deepEqual(body.warnings, []);
  const atZero = (await get(`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q(COSINE_24K)}&steps=0,100`)).json();
  assert.equal(atZero.loss[0], null);
  assert.equal(typeof atZero.loss[1], 'number');
  assert.match(atZero.warnings.join(' '), /infinite \(null\) at 1 step\(s\) before any lr was applied/);
});

test('bad fit and predict requests answer 4xx problem+json naming the field', async () => {
  const fitsBefore = (await get('/fits')).json().total;
  const fitCases: [unknown, number, string][] = [
    [{ curveIds: [], law: 'mpl' }, 400, 'curveIds'],
    [{ curveIds: [1], law: 'xyz' }, 400, 'law'],
    [{ curveIds: [1] }, 400, 'law'],
    [{ curveIds: [1, 999999], law: 'mpl' }, 404, 'curveIds[1]'],
    [{ curveIds: [1], law: 'mpl', options: { bogus: 1 } }, 400, 'options.bogus'],
    [{ curveIds: [1], law: 'mpl', foo: 1 }, 400, 'foo'],
    [[1, 2], 400, 'body'],
    // Options the chosen fit would ignore are refused, naming them.
    [{ curveIds: [1], law: 'lra', options: { adamIterations: 5 } }, 400, 'options.adamIterations'],
    [{ curveIds: [1], law: 'lra', options: { method: 'adam' } }, 400, 'options.method'],
    [{ curveIds: [1], law: 'mpl', options: { lambda: 0.99 } }, 400, 'options.lambda'],
    [{ curveIds: [1], law: 'mpl', options: { method: 'adam', maxIterations: 10 } }, 400, 'options.maxIterations'],
    [{ curveIds: [1], law: 'mpl', options: { starts: 10 } }, 400, 'options.starts'],
    [{ curveIds: [1], law: 'mpl', options: { method: 'converged', priorWeight: 2 } }, 400, 'options.priorWeight'],
    [{ curveIds: [1], law: 'mpl', options: { method: 'converged', adamSpace: 'raw' } }, 400, 'options.adamSpace'],
    // No points left after fromStep: the option is at fault, not the curves.
    [{ curveIds: [1], law: 'lra', options: { fromStep: 10_000_000 } }, 400, 'options.fromStep'],
  ];
  for (const [payload, status, field] of fitCases) {
    const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: payload as object });
    assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`);
    assert.match(res.headers['content-type'] as string, /problem\+json/);
    assert.equal(res.json().field, field, `${JSON.stringify(payload)}: ${res.body}`);
  }
  assert.match((await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds: [1], law: 'mpl', foo: 1 } })).json().detail, /unknown property "foo"/);
  assert.equal((await get('/fits')).json().total, fitsBefore, 'no refused fit was stored');
  const predictCases: [string, number, string][] = [
    [`/predict?schedule=${q(COSINE_24K)}`, 400, 'fit'],
    [`/predict?fit=999999&schedule=${q(COSINE_24K)}`, 404, 'fit'],
    [`/predict?law=mpl&schedule=${q(COSINE_24K)}`, 400, 'params'],
    [`/predict?law=mpl&params=1,2,3&schedule=${q(COSINE_24K)}`, 400, 'params'],
    [`/predict?law=mpl&params=${PUBLISHED_100M.replace('2.6514477', 'abc')}&schedule=${q(COSINE_24K)}`, 400, 'params'],
    [`/predict?law=mpl&params=${PUBLISHED_100M}`, 400, 'schedule'],
    [`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q('cosine:peak=3e-4')}`, 400, 'schedule.total'],
    [`/predict?law=mpl&params=${PUBLISHED_100M}&curve=999999`, 404, 'curve'],
    [`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q(COSINE_24K)}&steps=5,24000`, 400, 'steps'],
    [`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q(COSINE_24K)}&steps=abc`, 400, 'steps'],
    // Outside the law's domain (negative A, B, gamma; non-positive alpha, C, beta).
    [`/predict?law=mpl&params=-1,-2,3,4,5,6,7&schedule=${q(COSINE_24K)}`, 400, 'params'],
    [`/predict?law=lra&params=3,0.5,0,1&schedule=${q(COSINE_24K)}`, 400, 'params'],
    // lambda is the lra law's; mpl would ignore it.
    [`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q(COSINE_24K)}&lambda=0.5`, 400, 'lambda'],
  ];
  for (const [url, status, field] of predictCases) {
    const res = await get(url);
    assert.equal(res.statusCode, status, `${url}: ${res.body}`);
    assert.equal(res.json().field, field, `${url}: ${res.body}`);
  }
  assert.match((await get(`/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${q(COSINE_24K)}&steps=5,abc`)).json().detail, /"abc"/);
  assert.match((await get(`/predict?law=mpl&params=-1,-2,3,4,5,6,7&schedule=${q(COSINE_24K)}`)).json().detail, /A >= 0/);
});

test('a running fit does not block other requests (fits run on worker threads)', async () => {
  const curveIds = ['100M/cosine_24000', '100M/constant_24000', '100M/wsdcon_9'].map((n) => ids[n]!);
  let fitDone = false;
  const fit = ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'mpl' } }).then((res) => {
    fitDone = true;
    return res;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const health = await get('/health');
  assert.equal(health.statusCode, 200);
  assert.equal(fitDone, false, 'the health check answered while the fit was still running');
  assert.equal((await fit).statusCode, 201);
});
