import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvents, testApp } from './helpers.js';
import { buildApp } from '../src/app.js';
import { predictMpl } from '../src/laws/mpl/index.js';
import { expandSchedule } from '../src/schedule/expand.js';
import { openStore } from '../src/store/index.js';

const P100 = [2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644];
const P25 = [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257];
const RUN = { totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160 };

test('POST /optimize-schedule: constraints, predict agrees, schedule export', async () => {
  const ctx = await testApp();
  try {
    const res = await ctx.app.inject({ method: 'POST', url: '/optimize-schedule', payload: { law: 'mpl', params: P100, ...RUN } });
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json();
    assert.equal(r.lrs.length, RUN.totalSteps);
    for (let s = 0; s < RUN.warmupSteps; s++) assert.equal(r.lrs[s], (RUN.peakLr * s) / (RUN.warmupSteps - 1));
    for (let s = RUN.warmupSteps; s < RUN.totalSteps; s++) {
      assert.ok(r.lrs[s] >= 0 && r.lrs[s] <= RUN.peakLr);
      if (s > RUN.warmupSteps) assert.ok(r.lrs[s] <= r.lrs[s - 1]);
    }
    assert.ok(r.predictedFinalLoss <= 2.92478, String(r.predictedFinalLoss));
    // The curve starts where the lr sum is positive: numbers only (step 0 of the warmup predicts +Infinity, null in JSON).
    assert.equal(r.curve.steps[0], 1);
    assert.equal(r.curve.steps[r.curve.steps.length - 1], RUN.totalSteps - 1);
    assert.ok(r.curve.loss.every((v: unknown) => typeof v === 'number' && Number.isFinite(v)), JSON.stringify(r.curve.loss.slice(0, 3)));
    assert.equal(r.curve.loss[r.curve.loss.length - 1], r.predictedFinalLoss);
    assert.ok(r.predictedFinalLoss < r.baselines.wsd.loss && r.predictedFinalLoss < r.baselines.cosine.loss);
    assert.ok(Number.isInteger(r.scheduleId));

    // The returned spec predicts the same final loss (GET /predict when the route exists).
    const predict = await ctx.app.inject({
      method: 'GET',
      url: `/predict?law=mpl&params=${P100.join(',')}&steps=${RUN.totalSteps - 1}&schedule=${encodeURIComponent(r.schedule)}`,
    });
    if (predict.statusCode === 200) {
      const p = predict.json();
      const final = p.finalLoss ?? p.loss[p.loss.length - 1];
      assert.equal(final, r.predictedFinalLoss);
    } else {
      assert.equal(predict.statusCode, 404, predict.body);
      assert.equal(predictMpl(expandSchedule(r.schedule), [RUN.totalSteps - 1], P100)[0], r.predictedFinalLoss);
    }

    const json = await ctx.app.inject({ method: 'GET', url: `/schedules/${r.scheduleId}` });
    assert.equal(json.statusCode, 200);
    const stored = json.json();
    assert.equal(stored.spec, r.schedule);
    assert.equal(stored.totalSteps, RUN.totalSteps);
    assert.deepEqual(stored.lrs, r.lrs);

    const csv = await ctx.app.inject({ method: 'GET', url: `/schedules/${r.scheduleId}?format=csv` });
    assert.equal(csv.statusCode, 200);
    assert.match(csv.headers['content-type'] as string, /^text\/csv/);
    const lines = csv.body.trim().split('\n');
    assert.equal(lines[0], 'step,lr');
    assert.equal(lines.length, RUN.totalSteps + 1);
    assert.equal(Number(lines[RUN.totalSteps]!.split(',')[1]), r.lrs[RUN.totalSteps - 1]);

    const py = await ctx.app.inject({ method: 'GET', url: `/schedules/${r.scheduleId}?format=pytorch` });
    assert.equal(py.statusCode, 200);
    assert.match(py.body, /LambdaLR/);
    assert.match(py.body, /def lr_lambda\(step: int\) -> float:/);
    // The snippet's knots and multipliers reproduce the schedule (same interpolation, in JS).
    const knots = JSON.parse(/^KNOTS = (\[.*\])$/m.exec(py.body)![1]!) as number[];
    const mult = JSON.parse(/^MULTIPLIERS = (\[.*\])$/m.exec(py.body)![1]!) as number[];
    for (const step of [0, 1000, 2159, 2160, 12000, 20000, 23000, 23999]) {
      let i = 0;
      while (i + 1 < knots.length && knots[i + 1]! <= step) i++;
      const m = i >= knots.length - 1 ? mult[mult.length - 1]! : mult[i]! + ((mult[i + 1]! - mult[i]!) * (step - knots[i]!)) / (knots[i + 1]! - knots[i]!);
      assert.ok(Math.abs(m * RUN.peakLr - r.lrs[step]) <= 1e-12, `step ${step}`);
    }
  } finally {
    await ctx.close();
  }
});

test('POST /optimize-schedule: bad requests answer problem+json naming the field', async () => {
  const ctx = await testApp();
  try {
    const lraFit = await ctx.app.store.fits.insert({ law: 'lra', curveIds: [], options: {}, params: [3, 0.5, 0.5, 400, 0.999], maxLr: 3e-4, maxSteps: 24000, report: {} });
    const mplFit = await ctx.app.store.fits.insert({ law: 'mpl', curveIds: [], options: {}, params: P25, maxLr: 3e-4, maxSteps: 24000, report: {} });
    const base = { law: 'mpl', params: P25, totalSteps: 1000, peakLr: 1e-3, warmupSteps: 10 };
    const cases: [Record<string, unknown>, number, string, RegExp?][] = [
      [{ ...base, peakLr: 0 }, 400, 'peakLr'],
      [{ ...base, peakLr: -1 }, 400, 'peakLr'],
      [{ ...base, warmupSteps: 1000 }, 400, 'warmupSteps'],
      [{ ...base, warmupSteps: 5000 }, 400, 'warmupSteps'],
      [{ ...base, totalSteps: 10_000_001 }, 400, 'totalSteps'],
      [{ ...base, params: [1, 2] }, 400, 'params'],
      [{ ...base, finalLr: 2e-3 }, 400, 'finalLr'],
      [{ ...base, space: 'spline' }, 400, 'space'],
      [{ ...base, law: 'lra' }, 400, 'law', /degenerate/],
      [{ fit: lraFit.id, totalSteps: 1000, peakLr: 1e-3, warmupSteps: 10 }, 400, 'fit', /degenerate/],
      [{ fit: 9999, totalSteps: 1000, peakLr: 1e-3, warmupSteps: 10 }, 404, 'fit'],
      [{ totalSteps: 1000, peakLr: 1e-3, warmupSteps: 10 }, 400, 'fit'],
      [{ fit: mplFit.id, law: 'mpl', params: P25, totalSteps: 1000, peakLr: 1e-3, warmupSteps: 10 }, 400, 'fit'],
    ];
    for (const [payload, status, field, detail] of cases) {
      const res = await ctx.app.inject({ method: 'POST', url: '/optimize-schedule', payload });
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)} -> ${res.body}`);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      const body = res.json();
      assert.equal(body.field, field, res.body);
      if (detail) assert.match(body.detail, detail);
    }
    // A stored mpl fit works.
    const ok = await ctx.app.inject({
      method: 'POST',
      url: '/optimize-schedule',
      payload: { fit: mplFit.id, totalSteps: 2000, peakLr: 1e-3, warmupSteps: 100, restarts: 8, budgetMs: 2000 },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(ok.json().predictedFinalLoss < ok.json().baselines.cosine.loss);
    for (const url of ['/jobs/999', '/jobs/999/events', '/schedules/999']) {
      const res = await ctx.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
    }
  } finally {
    await ctx.close();
  }
});

test('a long search runs off the event loop: GET /health answers while it runs', async () => {
  const ctx = await testApp();
  try {
    // 600,000 steps: the float64 baselines alone take seconds, over the budget (they used to run on the event loop).
    const payload = { law: 'mpl', params: P100, totalSteps: 600_000, peakLr: 3e-4, warmupSteps: 2160, budgetMs: 500, restarts: 4 };
    let searchDone = false;
    const search = ctx.app.inject({ method: 'POST', url: '/optimize-schedule', payload }).then((res) => {
      searchDone = true;
      return res;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await ctx.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.equal(searchDone, false, 'GET /health waited for the search');
    const res = await search;
    assert.equal(res.statusCode, 200, res.body.slice(0, 500));
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    const r = res.json();
    assert.equal(r.lrs.length, payload.totalSteps);
    assert.ok(Number.isInteger(r.scheduleId));
    assert.equal(predictMpl(Float64Array.from(r.lrs), [payload.totalSteps - 1], P100)[0], r.predictedFinalLoss);
    assert.ok(r.warnings.some((w: string) => w.includes('float64 baselines')), r.warnings.join('; '));
  } finally {
    await ctx.close();
  }
});

test('DELETE /jobs/{id} cancels a running and a queued optimization; an ended job answers 409', async () => {
  const ctx = await testApp();
  try {
    const long = { law: 'mpl', params: P25, ...RUN, space: 'free', restarts: 64, budgetMs: 60_000 };
    const first = (await ctx.app.inject({ method: 'POST', url: '/optimize-schedule?async=1', payload: long })).json().jobId;
    const second = (await ctx.app.inject({ method: 'POST', url: '/optimize-schedule?async=1', payload: long })).json().jobId;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const queued = await ctx.app.inject({ method: 'DELETE', url: `/jobs/${second}` });
    assert.equal(queued.statusCode, 200, queued.body);
    assert.equal(queued.json().status, 'cancelled');
    assert.equal(queued.json().error, 'cancelled');
    const queuedBack = (await ctx.app.inject({ method: 'GET', url: `/jobs/${second}` })).json();
    assert.deepEqual([queuedBack.status, queuedBack.error], ['cancelled', 'cancelled'], 'a cancelled job reads back cancelled');
    const t0 = performance.now();
    // Two cancels at once (a double click): both see the job end cancelled.
    const [running, twice] = await Promise.all([1, 2].map(() => ctx.app.inject({ method: 'DELETE', url: `/jobs/${first}` })));
    assert.equal(running!.statusCode, 200, running!.body);
    assert.deepEqual([running!.json().status, running!.json().error], ['cancelled', 'cancelled']);
    assert.equal(twice!.statusCode, 200, twice!.body);
    assert.deepEqual([twice!.json().status, twice!.json().error], ['cancelled', 'cancelled']);
    const runningBack = (await ctx.app.inject({ method: 'GET', url: `/jobs/${first}` })).json();
    assert.deepEqual([runningBack.status, runningBack.error], ['cancelled', 'cancelled']);
    assert.ok(performance.now() - t0 < 10_000, 'the search stopped at its next iteration');
    const events = parseEvents((await ctx.app.inject({ method: 'GET', url: `/jobs/${first}/events` })).body);
    assert.deepEqual(events, [{ event: 'cancelled', data: { error: 'cancelled' } }]);
    const again = await ctx.app.inject({ method: 'DELETE', url: `/jobs/${first}` });
    assert.equal(again.statusCode, 409, 'a cancelled job has ended');
    assert.match(again.json().detail, /already ended \(cancelled\)/);
    assert.equal(again.json().field, 'id');
    assert.equal((await ctx.app.inject({ method: 'DELETE', url: '/jobs/999' })).statusCode, 404);
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/schedules/1' })).statusCode, 404, 'nothing stored');
  } finally {
    await ctx.close();
  }
  const guarded = await testApp({ token: 'tok' });
  try {
    const denied = await guarded.app.inject({ method: 'DELETE', url: '/jobs/1' });
    assert.equal(denied.statusCode, 401, 'cancelling needs the token');
  } finally {
    await guarded.close();
  }
});

test('async job: 202, server-sent progress then done, job stored with its result', async () => {
  const ctx = await testApp();
  try {
    const res = await ctx.app.inject({ method: 'POST', url: '/optimize-schedule?async=1', payload: { law: 'mpl', params: P25, ...RUN, space: 'piecewise' } });
    assert.equal(res.statusCode, 202, res.body);
    const { jobId } = res.json();
    assert.ok(Number.isInteger(jobId));
    const early = (await ctx.app.inject({ method: 'GET', url: `/jobs/${jobId}` })).json();
    assert.ok(['queued', 'running'].includes(early.status));
    assert.ok(early.progress >= 0 && early.progress <= 1);

    const stream = await ctx.app.inject({ method: 'GET', url: `/jobs/${jobId}/events` });
    assert.equal(stream.statusCode, 200);
    assert.match(stream.headers['content-type'] as string, /^text\/event-stream/);
    const events = parseEvents(stream.body);
    assert.ok(events.length >= 3, stream.body.slice(0, 500));
    assert.equal(events[0]!.event, 'progress');
    const last = events[events.length - 1]!;
    assert.equal(last.event, 'done', stream.body.slice(-500));
    assert.ok(events.slice(0, -1).every((e) => e.event === 'progress'));
    const progress = events.slice(0, -1).map((e) => e.data.progress as number);
    assert.ok(progress.every((p, i) => p >= 0 && p <= 1 && (i === 0 || p >= progress[i - 1]! - 1e-12)));
    const result = last.data;
    assert.ok(result.predictedFinalLoss <= 3.2593, String(result.predictedFinalLoss));
    assert.equal(result.lrs.length, RUN.totalSteps);

    const job = (await ctx.app.inject({ method: 'GET', url: `/jobs/${jobId}` })).json();
    assert.equal(job.status, 'done');
    assert.equal(job.progress, 1);
    assert.equal(job.bestLoss, result.predictedFinalLoss);
    assert.equal(job.result.predictedFinalLoss, result.predictedFinalLoss);
    assert.equal(job.result.schedule, result.schedule);
    assert.deepEqual(job.result.lrs, result.lrs);
    assert.equal(job.result.scheduleId, result.scheduleId);
    assert.equal(predictMpl(Float64Array.from(job.result.lrs), [RUN.totalSteps - 1], P25)[0], result.predictedFinalLoss);
    // Events of a finished job replay at once.
    const again = parseEvents((await ctx.app.inject({ method: 'GET', url: `/jobs/${jobId}/events` })).body);
    assert.deepEqual(again.map((e) => e.event), ['progress', 'done']);
  } finally {
    await ctx.close();
  }
});

test('jobs of a previous process: queued ones run on start, one interrupted twice while running fails', async () => {
  const ctx = await testApp();
  const { dbPath } = ctx;
  await ctx.app.close();
  const store = await openStore(dbPath);
  const request = { params: P25, totalSteps: 300, peakLr: 1e-3, warmupSteps: 10, restarts: 2, budgetMs: 200 };
  const queued = await store.jobs.insert('optimize', request);
  const running = await store.jobs.insert('optimize', request);
  await store.jobs.markRunning(running.id);
  await store.jobs.markRunning(running.id); // started twice: its retry was interrupted too
  await store.close();
  const app = await buildApp({ dbPath });
  try {
    const failed = (await app.inject({ method: 'GET', url: `/jobs/${running.id}` })).json();
    assert.deepEqual([failed.status, failed.error], ['failed', 'interrupted twice by a restart']);
    const events = parseEvents((await app.inject({ method: 'GET', url: `/jobs/${queued.id}/events` })).body);
    assert.equal(events.at(-1)!.event, 'done');
    assert.equal((await app.inject({ method: 'GET', url: `/jobs/${queued.id}` })).json().status, 'done');
  } finally {
    await app.close();
    await ctx.close().catch(() => {});
  }
});
