/**
 * Prediction intervals of POST /optimize-schedule (issue 13, part 1): the 25M fixture curves
 * uploaded and the published protocol's training curves fitted with POST /fit (the fit stores its
 * interval basis), then searches with `interval`: the predicted final loss and every baseline inside
 * their bounds, 95% wider than 80%, the final bounds equal to GET /predict's for the returned
 * schedule, the curve's bounds beside its loss, the same in an async job's stored result and its
 * `done` event, a fixed prefix, and `interval` without a stored fit a 400 naming it. Also the
 * relative improvements, which every answer carries.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvents, testApp, uploadFixtures } from './helpers.js';

const TRAIN = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'];
const RUN = { totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160 };
const BASELINES = ['cosine', 'linear', 'wsd', 'constant'] as const;
const q = encodeURIComponent;

let ctx: Awaited<ReturnType<typeof testApp>>;
let fitId: number;
let fitParams: number[];

before(async () => {
  ctx = await testApp();
  const ids = await uploadFixtures(ctx.app, (f) => TRAIN.includes(f.name));
  const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds: TRAIN.map((n) => ids[n]!), law: 'mpl' } });
  assert.equal(res.statusCode, 201, res.body);
  fitId = res.json().id;
  fitParams = (res.json().params as { value: number }[]).map((p) => p.value);
});
after(async () => ctx.close());

const optimize = (payload: Record<string, unknown>, url = '/optimize-schedule') => ctx.app.inject({ method: 'POST', url, payload });

/** Relative width of an interval. */
const width = (b: { lower: number; upper: number }, loss: number) => (b.upper - b.lower) / loss;

/** The answer's intervals: the final loss, the curve and every baseline inside their bounds at `level`. */
function assertIntervals(r: any, level: number) {
  const f = r.predictedFinalInterval;
  assert.equal(f.level, level);
  assert.ok(f.lower < r.predictedFinalLoss && r.predictedFinalLoss < f.upper, JSON.stringify(f));
  assert.equal(r.curve.lower.length, r.curve.loss.length);
  assert.equal(r.curve.upper.length, r.curve.loss.length);
  r.curve.loss.forEach((v: number, i: number) => assert.ok(r.curve.lower[i] < v && v < r.curve.upper[i], `curve step ${r.curve.steps[i]}`));
  // The curve's last step is the run's last: its bounds are the final loss's.
  assert.equal(r.curve.lower.at(-1), f.lower);
  assert.equal(r.curve.upper.at(-1), f.upper);
  for (const name of BASELINES) {
    const b = r.baselines[name];
    assert.ok(b.lower < b.loss && b.loss < b.upper, `${name}: ${JSON.stringify(b)}`);
  }
}

/** Relative improvements: (baseline - optimized) / baseline. */
function assertRelative(r: any) {
  const best = Math.min(...BASELINES.map((n) => r.baselines[n].loss as number));
  assert.ok(Math.abs(r.improvement.vsCosineRelative - (r.baselines.cosine.loss - r.predictedFinalLoss) / r.baselines.cosine.loss) <= 1e-15);
  assert.ok(Math.abs(r.improvement.vsBestBaselineRelative - (best - r.predictedFinalLoss) / best) <= 1e-15);
  // The sign follows the absolute improvement (a short search may not beat the best baseline: a warning says so).
  assert.equal(Math.sign(r.improvement.vsCosineRelative), Math.sign(r.improvement.vsCosine));
  assert.equal(Math.sign(r.improvement.vsBestBaselineRelative), Math.sign(r.improvement.vsBestBaseline));
}

test('POST /optimize-schedule with interval 0.8 and 0.95: bounds around the final loss, the curve and every baseline, equal to /predict, 95% wider', async () => {
  const answers: Record<number, any> = {};
  for (const level of [0.8, 0.95]) {
    const res = await optimize({ fit: fitId, ...RUN, space: 'wsd', budgetMs: 3000, interval: level });
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json();
    assertIntervals(r, level);
    assertRelative(r);
    answers[level] = r;

    // GET /predict on the returned schedule gives the same final loss and bounds (default steps, and the last step alone).
    for (const steps of ['', `&steps=${RUN.totalSteps - 1}`]) {
      const p = await ctx.app.inject({ method: 'GET', url: `/predict?fit=${fitId}&schedule=${q(r.schedule)}&interval=${level}${steps}` });
      assert.equal(p.statusCode, 200, p.body);
      const final = p.json().final;
      assert.equal(final.step, RUN.totalSteps - 1);
      assert.equal(final.loss, r.predictedFinalLoss);
      assert.ok(Math.abs(final.lower - r.predictedFinalInterval.lower) <= 1e-12 * final.loss, `${final.lower} vs ${r.predictedFinalInterval.lower}`);
      assert.ok(Math.abs(final.upper - r.predictedFinalInterval.upper) <= 1e-12 * final.loss, `${final.upper} vs ${r.predictedFinalInterval.upper}`);
    }
    // A baseline's bounds are /predict's for its schedule too.
    const cosine = r.baselines.cosine;
    const p = (await ctx.app.inject({ method: 'GET', url: `/predict?fit=${fitId}&schedule=${q(cosine.schedule)}&interval=${level}` })).json();
    assert.equal(p.final.loss, cosine.loss);
    assert.ok(Math.abs(p.final.lower - cosine.lower) <= 1e-12 * cosine.loss && Math.abs(p.final.upper - cosine.upper) <= 1e-12 * cosine.loss);
  }
  const [a, b] = [answers[0.8], answers[0.95]];
  for (const name of BASELINES) {
    // The same baseline schedules at both levels: the 95% interval contains the 80% one.
    assert.equal(a.baselines[name].loss, b.baselines[name].loss);
    assert.ok(b.baselines[name].lower < a.baselines[name].lower && a.baselines[name].upper < b.baselines[name].upper, name);
  }
  assert.ok(width(b.predictedFinalInterval, b.predictedFinalLoss) > 1.5 * width(a.predictedFinalInterval, a.predictedFinalLoss));
});

test('POST /optimize-schedule without interval: no bounds, relative improvements all the same', async () => {
  const res = await optimize({ fit: fitId, ...RUN, space: 'wsd', budgetMs: 1000 });
  assert.equal(res.statusCode, 200, res.body);
  const r = res.json();
  assert.equal(r.predictedFinalInterval, undefined);
  assert.equal(r.curve.lower, undefined);
  assert.equal(r.baselines.cosine.lower, undefined);
  assertRelative(r);
});

test('POST /optimize-schedule: interval needs a stored fit (400 naming interval), a level in (0, 1)', async () => {
  const res = await optimize({ law: 'mpl', params: fitParams, ...RUN, interval: 0.8 });
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(res.json().field, 'interval');
  assert.match(res.json().detail, /stored fit/);
  for (const interval of [0, 1, 1.5, -0.2, '0.8']) {
    const bad = await optimize({ fit: fitId, ...RUN, interval });
    assert.equal(bad.statusCode, 400, `${interval}: ${bad.body}`);
    assert.match(bad.body, /interval/);
  }
  const missing = await optimize({ fit: 999, ...RUN, interval: 0.8 });
  assert.equal(missing.statusCode, 404, missing.body);
});

test('POST /optimize-schedule?async=1 with interval: the job stores the intervals, the done event carries them', async () => {
  const res = await optimize({ fit: fitId, ...RUN, space: 'wsd', budgetMs: 1500, interval: 0.8 }, '/optimize-schedule?async=1');
  assert.equal(res.statusCode, 202, res.body);
  const { jobId } = res.json();
  const events = parseEvents((await ctx.app.inject({ method: 'GET', url: `/jobs/${jobId}/events` })).body);
  const done = events.at(-1)!;
  assert.equal(done.event, 'done');
  assertIntervals(done.data, 0.8);
  const job = (await ctx.app.inject({ method: 'GET', url: `/jobs/${jobId}` })).json();
  assert.equal(job.status, 'done');
  assertIntervals(job.result, 0.8);
  assertRelative(job.result);
  assert.deepEqual(job.result.predictedFinalInterval, done.data.predictedFinalInterval);
  assert.deepEqual(job.result.baselines, done.data.baselines);
});

test('POST /optimize-schedule with a fixed prefix and interval: baselines keep the prefix, their bounds are /predict’s for the whole run', async () => {
  const prefix = 'constant:peak=3e-4,warmup=2160,total=24000';
  const res = await optimize({ fit: fitId, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 0, prefix, prefixSteps: 9600, space: 'wsd', budgetMs: 2000, interval: 0.95 });
  assert.equal(res.statusCode, 200, res.body);
  const r = res.json();
  assert.equal(r.prefixSteps, 9600);
  assertIntervals(r, 0.95);
  // The same bounds from /predict on the optimized whole run, given as its spec.
  const p = (await ctx.app.inject({ method: 'GET', url: `/predict?fit=${fitId}&schedule=${q(r.schedule)}&interval=0.95&steps=23999` })).json();
  assert.ok(Math.abs(p.final.upper - r.predictedFinalInterval.upper) <= 1e-12 * p.final.loss);
});
