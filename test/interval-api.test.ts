/**
 * Prediction intervals over the API (issue 13, part 1): the 25M fixture curves uploaded, the
 * published protocol's training curves fitted with POST /fit (the fit stores its interval basis),
 * then GET and POST /predict with `interval` on held-out schedules. Also: intervals need a stored
 * fit, levels in (0, 1), a fit stored before intervals gets its basis rebuilt from its curves (or a
 * 409 naming `fit` when they are gone), and leave-one-out reports give their 80% coverage.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureCsv, fixtures, testApp, uploadFixtures } from './helpers.js';

const TRAIN = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'];
const PUBLISHED_25M = '2.6514477,0.60115152,0.45295811,437.9464276,2.13245612,0.59785199,0.65523644';
const WSD_24K = 'wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=3e-5,shape=exp';
const q = encodeURIComponent;

let ctx: Awaited<ReturnType<typeof testApp>>;
let ids: Record<string, number>;
let fitId: number;

before(async () => {
  ctx = await testApp();
  ids = await uploadFixtures(ctx.app, (f) => f.name.startsWith('25M/'));
  const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds: TRAIN.map((n) => ids[n]!), law: 'mpl' } });
  assert.equal(res.statusCode, 201, res.body);
  fitId = res.json().id;
});
after(async () => ctx.close());

const get = (url: string) => ctx.app.inject({ method: 'GET', url });

/** (upper - lower) / loss at each step. */
const widths = (p: { loss: number[]; lower: number[]; upper: number[] }) => p.loss.map((v, i) => (p.upper[i]! - p.lower[i]!) / v);

/** Every finite loss strictly inside its bounds, the final one too. */
function assertBrackets(p: { steps: number[]; loss: (number | null)[]; lower: (number | null)[]; upper: (number | null)[]; final: Record<string, number> }) {
  assert.equal(p.lower.length, p.loss.length);
  assert.equal(p.upper.length, p.loss.length);
  p.loss.forEach((v, i) => {
    if (v === null) return;
    assert.ok(p.lower[i]! < v && v < p.upper[i]!, `step ${p.steps[i]}: ${p.lower[i]} < ${v} < ${p.upper[i]}`);
  });
  assert.ok(p.final.lower! < p.final.loss! && p.final.loss! < p.final.upper!, JSON.stringify(p.final));
}

test('GET /predict with interval=0.8 and 0.95 on a held-out schedule: bounds around every loss, 95% wider than 80%', async () => {
  const answers = [];
  for (const level of [0.8, 0.95]) {
    const res = await get(`/predict?fit=${fitId}&schedule=${q(WSD_24K)}&interval=${level}`);
    assert.equal(res.statusCode, 200, res.body);
    const p = res.json();
    assertBrackets(p);
    assert.equal(p.interval.level, level);
    assert.equal(p.interval.calibrated, true);
    assert.match(p.interval.method, /covariance/);
    assert.deepEqual(p.warnings, [], 'a held-out schedule inside the fitted range: nothing to warn of');
    answers.push(p);
  }
  const [p80, p95] = answers;
  const plain = (await get(`/predict?fit=${fitId}&schedule=${q(WSD_24K)}`)).json();
  assert.deepEqual(p80.loss, plain.loss, 'the interval leaves the prediction as it is');
  assert.equal(plain.lower, undefined);
  assert.equal(plain.interval, undefined);
  const w80 = widths(p80);
  const w95 = widths(p95);
  w80.forEach((w, i) => assert.ok(w > 0 && w95[i]! > w, `step ${p80.steps[i]}: 95% width ${w95[i]} vs 80% ${w}`));
  // POST /predict answers the same.
  const posted = await ctx.app.inject({ method: 'POST', url: '/predict', payload: { fit: fitId, schedule: WSD_24K, interval: 0.95 } });
  assert.equal(posted.statusCode, 200, posted.body);
  assert.deepEqual(posted.json(), p95);
});

test('against a held-out curve longer than the fit: the 95% interval covers most of it, and widths grow beyond the longest fitted step', async () => {
  const res = await get(`/predict?fit=${fitId}&curve=${ids['25M/cosine_72000']}&interval=0.95`);
  assert.equal(res.statusCode, 200, res.body);
  const p = res.json();
  assertBrackets(p);
  const inside = p.observed.loss.filter((y: number, i: number) => y >= p.lower[i] && y <= p.upper[i]).length / p.observed.loss.length;
  assert.ok(inside > 0.7, `95% interval covers ${(100 * inside).toFixed(1)}% of cosine_72000`);
  assert.match(p.warnings.join(' '), /widens beyond the fit's longest schedule \(24,000 steps\)/);

  // One constant schedule, steps further and further beyond the fitted 24,000: monotone widening.
  const steps = Array.from({ length: 25 }, (_, i) => 23999 + 4000 * i);
  const far = (await get(`/predict?fit=${fitId}&schedule=${q('constant:peak=3e-4,warmup=2160,total=120000')}&steps=${steps.join(',')}&interval=0.8`)).json();
  assertBrackets(far);
  const w = widths(far);
  for (let i = 1; i < w.length; i++) assert.ok(w[i]! >= w[i - 1]! * (1 - 1e-12), `width ${w[i]} at step ${steps[i]} < ${w[i - 1]} at ${steps[i - 1]}`);
  assert.ok(w.at(-1)! > 1.05 * w[0]!, `widths ${w[0]} at the fitted horizon, ${w.at(-1)} at 5x`);
});

test('intervals need a stored fit; levels must lie strictly between 0 and 1', async () => {
  const withParams = await get(`/predict?law=mpl&params=${PUBLISHED_25M}&schedule=${q(WSD_24K)}&interval=0.8`);
  assert.equal(withParams.statusCode, 400);
  assert.equal(withParams.json().field, 'interval');
  assert.match(withParams.json().detail, /needs a stored fit/);
  const posted = await ctx.app.inject({ method: 'POST', url: '/predict', payload: { law: 'mpl', params: PUBLISHED_25M, schedule: WSD_24K, interval: 0.8 } });
  assert.deepEqual([posted.statusCode, posted.json().field], [400, 'interval']);
  // Without interval the same parameters predict as before.
  assert.equal((await get(`/predict?law=mpl&params=${PUBLISHED_25M}&schedule=${q(WSD_24K)}`)).statusCode, 200);

  for (const bad of ['0', '1', '1.5', '-0.2', 'abc', '']) {
    const res = await get(`/predict?fit=${fitId}&schedule=${q(WSD_24K)}&interval=${bad}`);
    assert.equal(res.statusCode, 400, `interval=${bad}: ${res.body}`);
    assert.equal(res.json().field, 'interval', `interval=${bad}: ${res.body}`);
  }
  const text = await ctx.app.inject({ method: 'POST', url: '/predict', payload: { fit: fitId, schedule: WSD_24K, interval: '0.8' } });
  assert.deepEqual([text.statusCode, text.json().field], [400, 'interval'], 'a JSON body takes a number');
});

test('the basis stays out of the fit as read; a fit stored without one gets it rebuilt from its curves on first use', async () => {
  const fit = (await get(`/fits/${fitId}`)).json();
  assert.doesNotMatch(JSON.stringify(fit), /covariance|footprint/);
  const stored = await ctx.app.store.fits.intervalBasis(fitId);
  assert.ok(stored && stored.covariance.length === 7, 'POST /fit stored the basis');

  // A fit stored before intervals: no basis. The first interval rebuilds it (the same one), and stores it.
  assert.equal(await ctx.app.store.fits.setIntervalBasis(fitId, null), true);
  assert.equal(await ctx.app.store.fits.intervalBasis(fitId), null);
  const url = `/predict?fit=${fitId}&schedule=${q(WSD_24K)}&every=100&interval=0.9`;
  const [a, b] = await Promise.all([get(url), get(url)]);
  assert.equal(a.statusCode, 200, a.body);
  assert.deepEqual(b.json(), a.json());
  assertBrackets(a.json());
  assert.deepEqual(await ctx.app.store.fits.intervalBasis(fitId), stored);
});

test('a fit without a basis whose curves are gone: 409 naming fit; one with its basis stored keeps its intervals', async () => {
  const entry = fixtures.find((f) => f.name === '25M/constant_24000')!;
  const upload = await ctx.app.inject({ method: 'POST', url: `/curves?name=copy&schedule=${q(entry.schedule!)}`, headers: { 'content-type': 'text/csv' }, payload: fixtureCsv(entry) });
  const curveId = upload.json().id;
  const options = { leaveOneOut: false, maxPoints: 100, maxIterations: 60 };
  const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds: [curveId], law: 'lra', options } });
  assert.equal(res.statusCode, 201, res.body);
  const lra = res.json().id;
  assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/curves/${curveId}` })).statusCode, 204);

  // Its basis was stored with it: intervals need no curve data (an lra fit: uncalibrated, and it says so).
  const kept = (await get(`/predict?fit=${lra}&schedule=${q(WSD_24K)}&interval=0.8`)).json();
  assertBrackets(kept);
  assert.equal(kept.interval.calibrated, false);
  assert.match(kept.warnings.join(' '), /calibrated on mpl fits with method map; this lra fit uses them uncalibrated/);

  await ctx.app.store.fits.setIntervalBasis(lra, null);
  const gone = await get(`/predict?fit=${lra}&schedule=${q(WSD_24K)}&every=1000&interval=0.8`);
  assert.equal(gone.statusCode, 409, gone.body);
  assert.equal(gone.json().field, 'fit');
  assert.match(gone.json().detail, new RegExp(`curve\\(s\\) ${curveId} were deleted`));
  // Without an interval it predicts as ever.
  assert.equal((await get(`/predict?fit=${lra}&schedule=${q(WSD_24K)}&every=1000`)).statusCode, 200);
});

test('leave-one-out reports give each held-out curve the coverage of the fold fit\'s 80% interval', async () => {
  let fit;
  for (const until = Date.now() + 5 * 60_000; ; ) {
    fit = (await get(`/fits/${fitId}`)).json();
    if (fit.leaveOneOut.status !== 'pending') break;
    assert.ok(Date.now() < until, 'leave-one-out still pending');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(fit.leaveOneOut.status, 'done', JSON.stringify(fit.leaveOneOut));
  const coverage = fit.leaveOneOut.perCurve.map((c: { coverage80: number }) => c.coverage80);
  for (const c of coverage) assert.ok(c >= 0 && c <= 1, `coverage ${c}`);
  const mean = coverage.reduce((a: number, b: number) => a + b, 0) / coverage.length;
  assert.ok(Math.abs(fit.leaveOneOut.mean.coverage80 - mean) < 1e-12);
  assert.match(fit.text, /leave-one-curve-out 80% prediction intervals .* cover /);
});
