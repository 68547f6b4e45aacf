/**
 * GET /baselines: the optimize answer's baselines for a stored fit and run shape, without a search.
 * Real fits of the 25M fixtures (mpl, and lra for the refusal); values compared with POST
 * /optimize-schedule's for the same fit/totalSteps/peakLr/warmupSteps.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtures, testApp, uploadFixtures } from './helpers.js';
import { BASELINES_MAX_STEPS } from '../src/routes/baselines.js';

const q = encodeURIComponent;
const TRAIN = ['25M/cosine_24000', '25M/constant_24000'];
const RUN = { totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160 };

let ctx: Awaited<ReturnType<typeof testApp>>;
let mplFit: number;
let lraFit: number;

before(async () => {
  ctx = await testApp();
  const ids = await uploadFixtures(ctx.app, (f) => TRAIN.includes(f.name));
  const curveIds = TRAIN.map((n) => ids[n]!);
  const mpl = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'mpl', options: { leaveOneOut: false } } });
  assert.equal(mpl.statusCode, 201, mpl.body);
  mplFit = mpl.json().id;
  const lra = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'lra', options: { leaveOneOut: false } } });
  assert.equal(lra.statusCode, 201, lra.body);
  lraFit = lra.json().id;
});
after(async () => ctx.close());

const get = (query: Record<string, string | number>) =>
  ctx.app.inject({ method: 'GET', url: `/baselines?${Object.entries(query).map(([k, v]) => `${k}=${q(String(v))}`).join('&')}` });

test('GET /baselines equals the baselines of the optimize answer for the same fit and run', async () => {
  for (const run of [RUN, { totalSteps: 6000, peakLr: 1e-3, warmupSteps: 300 }]) {
    const res = await get({ fit: mplFit, ...run });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual({ fit: body.fit, totalSteps: body.totalSteps, peakLr: body.peakLr, warmupSteps: body.warmupSteps }, { fit: mplFit, ...run });
    const opt = await ctx.app.inject({ method: 'POST', url: '/optimize-schedule', payload: { fit: mplFit, ...run, budgetMs: 300, restarts: 4 } });
    assert.equal(opt.statusCode, 200, opt.body);
    const expected = opt.json().baselines;
    assert.deepEqual(Object.keys(body.baselines).sort(), ['constant', 'cosine', 'linear', 'wsd']);
    for (const name of ['cosine', 'linear', 'wsd', 'constant']) {
      assert.equal(body.baselines[name].schedule, expected[name].schedule, name);
      assert.equal(body.baselines[name].loss, expected[name].loss, name);
    }
    // Each is a spec of the run: GET /predict of it under the fit gives the same final loss.
    const pred = await ctx.app.inject({ method: 'GET', url: `/predict?fit=${mplFit}&schedule=${q(body.baselines.wsd.schedule)}&steps=${run.totalSteps - 1}` });
    assert.equal(pred.statusCode, 200, pred.body);
    assert.equal(pred.json().final.loss, body.baselines.wsd.loss);
  }
  // A repeated request (answered from the cache) is the same answer.
  const again = [await get({ fit: mplFit, ...RUN }), await get({ fit: mplFit, ...RUN })].map((r) => r.json());
  assert.deepEqual(again[0], again[1]);
});

test('GET /baselines: 400 naming the wrong field, 404 for an unknown fit', async () => {
  const cases: [Record<string, string | number>, string][] = [
    [{ totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160 }, 'fit'],
    [{ fit: mplFit, peakLr: 3e-4, warmupSteps: 2160 }, 'totalSteps'],
    [{ fit: mplFit, totalSteps: 24000, warmupSteps: 2160 }, 'peakLr'],
    [{ fit: mplFit, totalSteps: 24000, peakLr: 3e-4 }, 'warmupSteps'],
    [{ fit: mplFit, totalSteps: 1, peakLr: 3e-4, warmupSteps: 0 }, 'totalSteps'],
    [{ fit: mplFit, totalSteps: 20_000_000, peakLr: 3e-4, warmupSteps: 0 }, 'totalSteps'],
    // Within optimize's limit, beyond the work bound of the baselines alone (BASELINES_MAX_STEPS).
    [{ fit: mplFit, totalSteps: BASELINES_MAX_STEPS + 1, peakLr: 3e-4, warmupSteps: 0 }, 'totalSteps'],
    [{ fit: mplFit, totalSteps: 'many', peakLr: 3e-4, warmupSteps: 0 }, 'totalSteps'],
    [{ fit: mplFit, totalSteps: 24000, peakLr: 2, warmupSteps: 2160 }, 'peakLr'],
    [{ fit: mplFit, totalSteps: 24000, peakLr: 0, warmupSteps: 2160 }, 'peakLr'],
    [{ fit: mplFit, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 23999 }, 'warmupSteps'],
    [{ fit: mplFit, totalSteps: 24000, peakLr: 3e-4, warmupSteps: -1 }, 'warmupSteps'],
    [{ fit: lraFit, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160 }, 'fit'],
  ];
  for (const [query, field] of cases) {
    const res = await get(query);
    assert.equal(res.statusCode, 400, `${JSON.stringify(query)}: ${res.body}`);
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
    assert.equal(res.json().field, field, `${JSON.stringify(query)}: ${res.body}`);
  }
  const missing = await get({ fit: 999999, ...RUN });
  assert.equal(missing.statusCode, 404, missing.body);
  assert.equal(missing.json().field, 'fit');
});

test('GET /baselines does not hold the event loop: /health answers while a long run is evaluated', async () => {
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const address = ctx.app.server.address() as { port: number };
  const base = `http://127.0.0.1:${address.port}`;
  const long = fetch(`${base}/baselines?fit=${mplFit}&totalSteps=400000&peakLr=3e-4&warmupSteps=2160`);
  await new Promise((r) => setTimeout(r, 150));
  const t0 = performance.now();
  const health = await fetch(`${base}/health`);
  const healthMs = performance.now() - t0;
  assert.equal(health.status, 200);
  const res = await long;
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.ok(Number.isFinite(body.baselines.wsd.loss));
  assert.ok(healthMs < 500, `health took ${healthMs.toFixed(0)} ms while the baselines ran`);
});
