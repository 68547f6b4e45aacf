/**
 * Deciding the rest of a run (issue 13, part 3): a fixed prefix in POST /optimize-schedule and the
 * cooldown planner (POST /plan-cooldown), with the published 25M/100M MPL params
 * (src/fixtures/luo2025.ts) and real fixture curves truncated as a run so far. Synthetic schedules
 * only check the math.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { testApp } from './helpers.js';
import { projectPath } from '../src/paths.js';
import { PUBLISHED, publishedSplit } from '../src/fixtures/luo2025.js';
import { intervalBasisOf } from '../src/predict/interval-basis.js';
import type { FitReport } from '../src/fit/types.js';
import { load124mCurve } from '../src/fixtures/schaipp-haegele.js';
import { predictMpl, predictMplDirect } from '../src/laws/mpl/index.js';
import { expandSchedule } from '../src/schedule/expand.js';
import { exactPiecewiseSpec } from '../src/optimize/prefix.js';
import { candidateLrs, evaluateCooldowns, prefixTerms } from '../src/optimize/cooldown-eval.js';
import { cooldownCandidates } from '../src/optimize/cooldown-grid.js';

const P25 = [...PUBLISHED['25M'].params];
const P100 = [...PUBLISHED['100M'].params];
const CONSTANT = 'constant:peak=3e-4,warmup=2160,total=24000';

/** The first `maxStep` steps' rows of a fixture CSV: the log of a run so far. */
function csvUpTo(file: string, maxStep: number): string {
  const [head, ...rows] = readFileSync(projectPath('fixtures', file), 'utf8').trim().split('\n');
  return [head, ...rows.filter((r) => Number(r.split(',')[0]) <= maxStep)].join('\n') + '\n';
}

const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test('the planner evaluates the law exactly: every candidate equals the direct sum over its whole run', () => {
  // A warmup + constant prefix, and one that decays, steps to lr 0 and back up (synthetic: the math only).
  const bumpy = Float64Array.from({ length: 3000 }, (_, s) => (s < 500 ? (3e-4 * s) / 499 : s < 1500 ? 3e-4 * (1 - (s - 500) / 2000) : s === 1500 ? 0 : 2e-4));
  for (const prefix of [expandSchedule(CONSTANT).subarray(0, 8000), bumpy]) {
    const terms = prefixTerms(prefix);
    const candidates = cooldownCandidates({ startCount: 3, lengthFractions: [0.05, 0.3], finalFractions: [0, 0.1] }, prefix.length, 24000);
    const losses = evaluateCooldowns(terms, candidates, P100);
    candidates.forEach((c, i) => {
      const lrs = candidateLrs(prefix, c);
      assert.ok(relDiff(losses[i]!, predictMplDirect(lrs, [c.end - 1], P100)[0]!) < 1e-12, `${JSON.stringify(c)}`);
    });
  }
});

test('a curve rebuilt from logged lrs becomes a piecewise spec that expands to it bit for bit', () => {
  const logged = load124mCurve('stable-124m_lr0.001_50000', 'val', { maxStep: 19_999 }).lrs;
  const cosine = expandSchedule('cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5');
  const noisy = Float64Array.from({ length: 5000 }, (_, s) => 1e-3 * (1 + 0.01 * Math.sin(s * 1.7)));
  for (const lrs of [logged, cosine, noisy]) {
    const expanded = expandSchedule(exactPiecewiseSpec(lrs));
    assert.equal(expanded.length, lrs.length);
    assert.ok(expanded.every((v, s) => v === lrs[s]));
  }
});

/** The checks of an optimize answer with a fixed prefix `prefix` (its lrs). */
function checkPrefixAnswer(r: any, prefix: Float64Array, totalSteps: number, params: number[]): void {
  assert.equal(r.prefixSteps, prefix.length);
  assert.equal(r.lrs.length, totalSteps);
  for (let s = 0; s < prefix.length; s++) assert.equal(r.lrs[s], prefix[s], `prefix step ${s}`);
  const level = prefix[prefix.length - 1]!;
  for (let s = prefix.length; s < totalSteps; s++) assert.ok(r.lrs[s] <= (s === prefix.length ? level : r.lrs[s - 1]), `rise at step ${s}`);
  const expanded = expandSchedule(r.schedule);
  assert.ok(expanded.every((v, s) => v === r.lrs[s]), 'the spec expands to lrs');
  assert.equal(r.predictedFinalLoss, predictMpl(Float64Array.from(r.lrs), [totalSteps - 1], params)[0]);
  // Baselines keep the prefix too: their spec is the rest's.
  const rest = expandSchedule(r.baselines.wsd.schedule);
  const whole = new Float64Array(totalSteps);
  whole.set(prefix);
  whole.set(rest, prefix.length);
  assert.equal(r.baselines.wsd.loss, predictMpl(whole, [totalSteps - 1], params)[0]);
}

test('POST /optimize-schedule with a prefix spec or a curve: the prefix lrs are kept exactly', async () => {
  const ctx = await testApp();
  try {
    const base = { law: 'mpl', params: P25, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 0, restarts: 8, budgetMs: 1500 };
    const free = await ctx.app.inject({ method: 'POST', url: '/optimize-schedule', payload: { ...base, prefix: CONSTANT, prefixSteps: 9600 } });
    assert.equal(free.statusCode, 200, free.body);
    checkPrefixAnswer(free.json(), expandSchedule(CONSTANT).subarray(0, 9600), 24000, P25);
    assert.ok(free.json().predictedFinalLoss < free.json().baselines.constant.loss);

    // A real 124M run so far (logged lrs, no spec), 40% of its steps; the wsd space continues at its lr.
    const upload = await ctx.app.inject({
      method: 'POST',
      url: '/curves?name=so-far',
      headers: { 'content-type': 'text/csv' },
      payload: csvUpTo('schaipp-haegele-2025/stable-124m_lr0.001_50000.val.csv', 19_999),
    });
    assert.equal(upload.statusCode, 201, upload.body);
    const prefix = load124mCurve('stable-124m_lr0.001_50000', 'val', { maxStep: 19_999 }).lrs;
    const wsd = await ctx.app.inject({ method: 'POST', url: '/optimize-schedule', payload: { ...base, peakLr: 1e-3, totalSteps: 50000, curve: upload.json().id, space: 'wsd' } });
    assert.equal(wsd.statusCode, 200, wsd.body);
    const r = wsd.json();
    checkPrefixAnswer(r, prefix, 50000, P25);
    // The answer's schedule copies the rest's wsd spec within 1e-4 x peak (its knots are thinned), as familySchedule does.
    assert.ok(expandSchedule(r.restSchedule).every((v: number, i: number) => Math.abs(v - r.lrs[prefix.length + i]) <= 1e-4 * 1e-3), 'restSchedule is the rest');
  } finally {
    await ctx.close();
  }
});

test('POST /optimize-schedule: a bad prefix answers 400 naming the field', async () => {
  const ctx = await testApp();
  try {
    const csv = csvUpTo('mpl-luo2025/25M/constant_24000.csv', 9600);
    const curve = (await ctx.app.inject({ method: 'POST', url: `/curves?name=c&schedule=${encodeURIComponent(CONSTANT)}`, headers: { 'content-type': 'text/csv' }, payload: csv })).json().id;
    const base = { law: 'mpl', params: P25, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 0, budgetMs: 500, restarts: 2 };
    const decayed = 'wsd:peak=3e-4,total=24000,decayStart=5000,final=3e-5,shape=linear';
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, prefix: CONSTANT, curve }, 400, 'curve'],
      [{ ...base, curve, prefixSteps: 10 }, 400, 'prefixSteps'],
      [{ ...base, curve: 9999 }, 404, 'curve'],
      [{ ...base, curve, totalSteps: 9000 }, 400, 'curve'],
      [{ ...base, prefixSteps: 100 }, 400, 'prefixSteps'],
      [{ ...base, prefix: 'constant:peak=abc,total=10' }, 400, 'prefix.peak'],
      [{ ...base, prefix: CONSTANT, prefixSteps: 30000 }, 400, 'prefixSteps'],
      [{ ...base, prefix: CONSTANT, prefixSteps: 23999 }, 400, 'prefixSteps'],
      [{ ...base, prefix: CONSTANT }, 400, 'totalSteps'],
      [{ ...base, prefix: CONSTANT, prefixSteps: 9600, peakLr: 2e-4 }, 400, 'prefix'],
      [{ ...base, prefix: 'linear:peak=3e-4,total=5000,final=0' }, 400, 'prefix'],
      [{ ...base, prefix: CONSTANT, prefixSteps: 9600, warmupSteps: 9700 }, 400, 'warmupSteps'],
      [{ ...base, prefix: decayed, prefixSteps: 15000, finalLr: 2e-4 }, 400, 'finalLr'],
      [{ ...base, prefix: decayed, prefixSteps: 15000, minLr: 2e-4 }, 400, 'minLr'],
    ];
    for (const [payload, status, field] of cases) {
      const res = await ctx.app.inject({ method: 'POST', url: '/optimize-schedule', payload });
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)} -> ${res.body}`);
      assert.equal(res.json().field, field, res.body);
    }
  } finally {
    await ctx.close();
  }
});

/** A plan's invariants: the best is the grid's lowest and no worse than both references; entries are the law's. */
function checkPlan(plan: any, prefix: Float64Array, params: number[]): void {
  assert.equal(plan.now, prefix.length);
  const lowest = Math.min(...plan.grid.map((e: any) => e.loss));
  assert.equal(plan.best.loss, lowest);
  assert.ok(plan.best.loss <= plan.references.coolDownNow.loss && plan.best.loss <= plan.references.continueToBudget.loss);
  assert.equal(plan.gain.vsCoolDownNow, plan.references.coolDownNow.loss - plan.best.loss);
  assert.equal(plan.gain.vsContinueToBudget, plan.references.continueToBudget.loss - plan.best.loss);
  // The references as documented: 20% cooldowns, linear to 0.
  const { coolDownNow, continueToBudget } = plan.references;
  assert.deepEqual([coolDownNow.start, coolDownNow.length, coolDownNow.shape, coolDownNow.finalFraction], [prefix.length, Math.min(plan.totalSteps - prefix.length, Math.round(prefix.length / 4)), 'linear', 0]);
  assert.deepEqual([continueToBudget.start, continueToBudget.end], [plan.totalSteps - Math.round(0.2 * plan.totalSteps), plan.totalSteps]);
  for (const d of [plan.best, coolDownNow, continueToBudget]) {
    const rest = expandSchedule(d.restSchedule);
    const whole = new Float64Array(prefix.length + rest.length);
    whole.set(prefix);
    whole.set(rest, prefix.length);
    assert.equal(whole.length, d.end);
    assert.ok(relDiff(d.loss, predictMpl(whole, [d.end - 1], params)[0]!) < 1e-9, JSON.stringify(d));
  }
}

test('POST /plan-cooldown: the grid, its best no worse than both references, from a spec or a curve', async () => {
  const ctx = await testApp();
  try {
    // Default grid (on a worker thread: over the inline work).
    const res = await ctx.app.inject({ method: 'POST', url: '/plan-cooldown', payload: { law: 'mpl', params: P25, prefix: CONSTANT, prefixSteps: 8000, totalSteps: 24000 } });
    assert.equal(res.statusCode, 200, res.body);
    const plan = res.json();
    assert.ok(plan.grid.length > 500 && plan.grid.length <= 20_000, String(plan.grid.length));
    checkPlan(plan, expandSchedule(CONSTANT).subarray(0, 8000), P25);
    assert.ok(plan.gain.vsCoolDownNow > 0.05 && plan.best.end === 24000, JSON.stringify(plan.best));
    assert.equal(plan.best.schedule, `wsd:peak=0.0003,warmup=2160,total=24000,decayStart=${plan.best.start},final=${plan.best.finalLr},shape=${plan.best.shape}`);

    // A stored real curve (the 100M constant run's first 40%), a small grid (inline).
    const csv = csvUpTo('mpl-luo2025/100M/constant_24000.csv', 9600);
    const curve = (await ctx.app.inject({ method: 'POST', url: `/curves?name=c&schedule=${encodeURIComponent(CONSTANT)}`, headers: { 'content-type': 'text/csv' }, payload: csv })).json();
    const fit = await ctx.app.store.fits.insert({ law: 'mpl', curveIds: [], options: {}, params: P100, maxLr: 3e-4, maxSteps: 24000, report: {} });
    const small = await ctx.app.inject({
      method: 'POST',
      url: '/plan-cooldown',
      payload: { fit: fit.id, curve: curve.id, totalSteps: 24000, grid: { starts: [12000, 19200], lengths: [2400, 4800], shapes: ['linear', 'sqrt'], finalFractions: [0] } },
    });
    assert.equal(small.statusCode, 200, small.body);
    const prefix = expandSchedule(CONSTANT).subarray(0, curve.lastStep + 1);
    checkPlan(small.json(), prefix, P100);
    assert.equal(small.json().grid.length, 2 * 2 * 2 + 1); // + cool down now (continueToBudget is in the grid)
    assert.equal(small.json().best.lower, undefined);

    // With a level and a fit that keeps its interval basis (the published 100M params on their training curves).
    const train = publishedSplit('100M').train;
    const report = { params: P100.map((value) => ({ value })) } as unknown as Pick<FitReport, 'params'>;
    const intervalBasis = intervalBasisOf({ law: 'mpl', curves: train, options: {} }, report);
    const withBasis = await ctx.app.store.fits.insert({ law: 'mpl', curveIds: [], options: {}, params: P100, maxLr: 3e-4, maxSteps: 24000, report: {}, intervalBasis });
    const banded = await ctx.app.inject({
      method: 'POST',
      url: '/plan-cooldown',
      payload: { fit: withBasis.id, curve: curve.id, totalSteps: 24000, interval: 0.8, grid: { starts: [19200], lengths: [4800], shapes: ['linear'], finalFractions: [0] } },
    });
    assert.equal(banded.statusCode, 200, banded.body);
    for (const d of [banded.json().best, banded.json().references.coolDownNow, banded.json().references.continueToBudget]) {
      assert.ok(d.lower < d.loss && d.loss < d.upper, JSON.stringify(d));
    }
    const noBasis = await ctx.app.inject({ method: 'POST', url: '/plan-cooldown', payload: { fit: fit.id, curve: curve.id, totalSteps: 24000, interval: 0.8 } });
    // A fit stored without a basis gets it rebuilt from its curves, as /predict does; this one names none: 409.
    assert.equal(noBasis.statusCode, 409, noBasis.body);
    assert.equal(noBasis.json().field, 'fit');
  } finally {
    await ctx.close();
  }
});

test('POST /plan-cooldown: bad requests and work beyond the limit answer 400 naming the field', async () => {
  const ctx = await testApp();
  try {
    const base = { law: 'mpl', params: P25, prefix: CONSTANT, prefixSteps: 8000, totalSteps: 24000 };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, grid: { startCount: 256, lengths: Array.from({ length: 200 }, (_, i) => 2 + i) } }, 400, 'grid'],
      // A long cosine prefix changes its lr at every step: each candidate costs a million terms.
      [{ ...base, prefix: 'cosine:peak=3e-4,total=2000000', prefixSteps: 1_000_000, totalSteps: 2_000_000 }, 400, 'grid'],
      [{ ...base, grid: { starts: [100] } }, 400, 'grid.starts[0]'],
      [{ ...base, grid: { lengths: [1] } }, 400, 'grid.lengths[0]'],
      [{ ...base, grid: { finalFractions: [1.5] } }, 400, 'grid.finalFractions[0]'],
      [{ ...base, grid: { shapes: ['step'] } }, 400, 'grid.shapes[0]'],
      [{ ...base, grid: { width: 3 } }, 400, 'grid.width'],
      [{ ...base, totalSteps: 8001 }, 400, 'prefixSteps'],
      [{ ...base, prefix: undefined, prefixSteps: undefined }, 400, 'curve'],
      [{ ...base, curve: 1 }, 400, 'curve'],
      [{ ...base, law: 'lra' }, 400, 'law'],
      [{ ...base, interval: 0.8 }, 400, 'interval'],
      [{ ...base, interval: 1 }, 400, 'interval'],
      [{ ...base, params: [1, 2] }, 400, 'params'],
      [{ ...base, prefix: undefined, prefixSteps: undefined, curve: 999 }, 404, 'curve'],
    ];
    for (const [payload, status, field] of cases) {
      const res = await ctx.app.inject({ method: 'POST', url: '/plan-cooldown', payload });
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)} -> ${res.body}`);
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
      assert.equal(res.json().field, field, res.body);
    }
  } finally {
    await ctx.close();
  }
});
